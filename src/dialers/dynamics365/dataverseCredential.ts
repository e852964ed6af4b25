import type { TokenCredential } from '@azure/identity';
import { LocalStandInCredential } from './localStandInCredential.js';

/**
 * The credential for calls to DATAVERSE_URL, the same for every caller (the dynamics365 dialer, the
 * journey outbox): the local stand-in (npm start) has no Entra ID and takes tokens signed with
 * DATAVERSE_LOCAL_TOKEN_KEY, so a plain-http URL (settings allow it only on loopback) gets those;
 * anything else gets the app's Entra identity from `entra`, built only when needed.
 */
export function dataverseCredential(orgUrl: string, localTokenKey: string | undefined, entra: () => TokenCredential): TokenCredential {
  return orgUrl.startsWith('http:') && localTokenKey !== undefined ? new LocalStandInCredential(localTokenKey) : entra();
}

import { ClientSecretCredential, ManagedIdentityCredential, UsernamePasswordCredential, type TokenCredential } from '@azure/identity';
import type { CopilotStudioSettings } from './agentLegSettings.js';

export type CopilotStudioTokenKind = CopilotStudioSettings['auth'];

/** Tokens for Copilot Studio's conversation API; `@azure/identity` caches and refreshes them. */
export interface CopilotStudioTokenSource {
  readonly kind: CopilotStudioTokenKind;
  /** A bearer token for `scope` (`https://api.powerplatform.com/.default` in the public cloud). */
  token(scope: string): Promise<string>;
}

/**
 * The token source the settings describe:
 * - `app-only`: client credentials of an app registration (or the function app's managed identity) with
 *   the Power Platform API application permission `CopilotStudio.Copilots.Invoke`. Only some agents
 *   accept app-only tokens;
 * - `delegated`: a service account signs in through a public client app registration with the delegated
 *   permission `CopilotStudio.Copilots.Invoke` (the token kind standard agents take);
 * - `none`: no token, for the local stand-in.
 */
export function createCopilotStudioTokenSource(settings: CopilotStudioSettings | undefined): CopilotStudioTokenSource {
  if (settings === undefined || settings.auth === 'none') return { kind: 'none', token: () => Promise.resolve('') };
  const credential = toCredential(settings);
  return {
    kind: settings.auth,
    async token(scope) {
      const token = await credential.getToken(scope);
      if (token === null) throw new Error(`no ${settings.auth} token was issued for ${scope}`);
      return token.token;
    },
  };
}

function toCredential(settings: CopilotStudioSettings): TokenCredential {
  const { tenantId, clientId } = settings;
  if (settings.auth === 'app-only') {
    if (settings.managedIdentity) return clientId === undefined ? new ManagedIdentityCredential() : new ManagedIdentityCredential({ clientId });
    if (tenantId !== undefined && clientId !== undefined && settings.clientSecret !== undefined) {
      return new ClientSecretCredential(tenantId, clientId, settings.clientSecret);
    }
  }
  if (settings.auth === 'delegated' && tenantId !== undefined && clientId !== undefined && settings.username !== undefined && settings.password !== undefined) {
    // Deprecated by @azure/identity for interactive users (no MFA); for a headless service account it is
    // the one delegated flow that needs no person present. See docs/decisions.md.
    return new UsernamePasswordCredential(tenantId, clientId, settings.username, settings.password);
  }
  // The settings schema rules these out; reaching here is a programming error, not a user's.
  throw new Error(`Copilot Studio ${settings.auth} settings are incomplete`);
}

import { createHmac } from 'node:crypto';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

/** Issuer of tokens for the local Dataverse stand-in; the stand-in accepts no other. */
export const LOCAL_TOKEN_ISSUER = 'local-dataverse-stand-in';
const LIFETIME_MS = 60 * 60_000;

/**
 * Tokens for the local Dataverse stand-in (dev/dataverse), where there is no Entra ID: a JWT signed
 * with HS256 and the shared `DATAVERSE_LOCAL_TOKEN_KEY`, whose `aud` is the resource asked for
 * (`{orgUrl}` for the scope `{orgUrl}/.default`), as Entra would set it. The stand-in checks the
 * signature, issuer, expiry and that the audience is its own URL, so a token for another resource
 * (Graph, say) is refused there as Dataverse would refuse it. Used only when DATAVERSE_URL is a
 * loopback http URL; against a real organisation the app uses @azure/identity.
 */
export class LocalStandInCredential implements TokenCredential {
  constructor(
    private readonly key: string,
    private readonly now: () => number = Date.now,
  ) {}

  getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? (scopes[0] ?? '') : scopes;
    const issuedAt = this.now();
    const expiresOnTimestamp = issuedAt + LIFETIME_MS;
    const token = signLocalToken(
      { aud: scope.replace(/\/\.default$/, ''), iss: LOCAL_TOKEN_ISSUER, iat: Math.floor(issuedAt / 1000), exp: Math.floor(expiresOnTimestamp / 1000) },
      this.key,
    );
    return Promise.resolve({ token, expiresOnTimestamp });
  }
}

/** A compact HS256 JWT of `claims`. */
export function signLocalToken(claims: Readonly<Record<string, unknown>>, key: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

/** A token is renewed this long before it expires, so no request leaves with a dying token. */
export const TOKEN_REFRESH_MARGIN_MS = 2 * 60_000;

/**
 * Wraps a credential so that concurrent requests for the same scopes share one token request and a
 * token is reused until shortly before it expires. @azure/identity credentials cache tokens, but
 * calls made while the first is still in flight each go to Entra (a dial() of ten chunks would ask
 * ten times), which is what this prevents.
 */
export function shareTokenRequests(credential: TokenCredential, now: () => number = Date.now): TokenCredential {
  const cached = new Map<string, AccessToken>();
  const pending = new Map<string, Promise<AccessToken | null>>();
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      const key = (Array.isArray(scopes) ? [...scopes].sort() : [scopes]).join(' ');
      const token = cached.get(key);
      if (token !== undefined && token.expiresOnTimestamp - now() > TOKEN_REFRESH_MARGIN_MS) return token;
      let request = pending.get(key);
      if (request === undefined) {
        request = credential
          .getToken(scopes, options)
          .then((fresh) => {
            if (fresh !== null) cached.set(key, fresh);
            return fresh;
          })
          .finally(() => pending.delete(key));
        pending.set(key, request);
      }
      return request;
    },
  };
}

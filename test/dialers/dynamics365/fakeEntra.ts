import { ClientSecretCredential } from '@azure/identity';
import nock from 'nock';

export const TENANT_ID = '5f6a2c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b';
export const CLIENT_ID = '0e1d2c3b-4a59-4867-8756-a4b3c2d1e0f9';
const AUTHORITY = 'https://login.microsoftonline.com';

export interface TokenRequest {
  readonly clientId: string | null;
  readonly grantType: string | null;
  readonly scope: string | null;
}

export interface FakeEntra {
  /** A real @azure/identity credential; only its HTTP calls are faked. */
  readonly credential: ClientSecretCredential;
  /** Every client-credentials request Entra received, in order. */
  readonly tokenRequests: TokenRequest[];
  /** The access token Entra issues for a scope (one per scope, so a test can tell Graph's from Dataverse's). */
  tokenFor(scope: string): string;
}

/**
 * Fakes the Entra ID v2 token endpoint for a client-secret app. MSAL Node carries the public
 * cloud's authority metadata built in, so for login.microsoftonline.com it skips instance discovery
 * and the OpenID configuration document and makes exactly one call: the token POST
 * (form-encoded client_id, client_secret, scope, grant_type=client_credentials).
 */
export function fakeEntra(): FakeEntra {
  const tokenRequests: TokenRequest[] = [];
  const tokenFor = (scope: string) =>
    `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ aud: scope.replace('/.default', '') })).toString('base64url')}.c2lnbmF0dXJl`;
  nock(AUTHORITY)
    .post(`/${TENANT_ID}/oauth2/v2.0/token`)
    .query(true)
    .reply(async (request: Request) => {
      const form = new URLSearchParams(await request.text());
      const scope = form.get('scope');
      tokenRequests.push({ clientId: form.get('client_id'), grantType: form.get('grant_type'), scope });
      return [
        200,
        { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: tokenFor(scope ?? '') },
        { 'Content-Type': 'application/json; charset=utf-8' },
      ];
    })
    .persist();
  const credential = new ClientSecretCredential(TENANT_ID, CLIENT_ID, 'test-only-secret');
  return { credential, tokenRequests, tokenFor };
}

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import nock from 'nock';

/** Ids of the test world: our bot, its tenant, the Copilot Studio agent calling it, a stranger. */
export const BOT_APP_ID = '5b2f6a47-1c1e-4e5a-9a41-0b7f1d2c3a01';
export const TENANT_ID = '9d3c0b8e-2a6f-4c3e-8b1d-7e5f4a3b2c10';
export const COPILOT_APP_ID = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
export const STRANGER_APP_ID = 'e1e2e3e4-f5f6-4a7b-8c9d-0a1b2c3d4e5f';
export const OTHER_TENANT_ID = '11111111-2222-4333-8444-555555555555';
const KEY_ID = 'test-signing-key-1';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, unknown>;
}

export function newSigningKey(kid = KEY_ID): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256', kty: 'RSA' } };
}

/**
 * Serves the signing keys where the Agents SDK (1.8.1, jwt-middleware `buildJwksUri`) fetches them:
 * the Bot Framework channel service's JWKS for `https://api.botframework.com` tokens, and the tenant's
 * Entra v2 JWKS for every other issuer (the SDK derives both from the token's issuer; it does not read
 * the OpenID configuration documents to validate incoming tokens).
 */
export function serveSigningKeys(key: SigningKey): void {
  const jwks = { keys: [key.jwk] };
  nock('https://login.botframework.com').persist().get('/v1/.well-known/keys').reply(200, jwks);
  nock('https://login.microsoftonline.com').persist().get(`/${TENANT_ID}/discovery/v2.0/keys`).reply(200, jwks);
}

interface TokenOptions {
  readonly audience?: string;
  readonly issuer?: string;
  readonly tenant?: string;
  readonly callerAppId?: string;
  readonly expiresInSeconds?: number;
  readonly serviceUrl?: string;
}

/** An Entra v2 access token, as a calling agent (Copilot Studio) gets for our app id. */
export function entraToken(key: SigningKey, options: TokenOptions = {}): string {
  const tenant = options.tenant ?? TENANT_ID;
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign(
    {
      aud: options.audience ?? BOT_APP_ID,
      iss: options.issuer ?? `https://login.microsoftonline.com/${tenant}/v2.0`,
      tid: tenant,
      azp: options.callerAppId ?? COPILOT_APP_ID,
      azpacr: '1',
      ver: '2.0',
      iat: now - 60,
      nbf: now - 60,
      exp: now + (options.expiresInSeconds ?? 3600),
    },
    key.privateKey,
    { algorithm: 'RS256', keyid: key.kid },
  );
}

/** A Bot Framework channel-service token, as Azure Bot Service channels (voice) send. */
export function channelToken(key: SigningKey, options: TokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign(
    {
      aud: options.audience ?? BOT_APP_ID,
      iss: 'https://api.botframework.com',
      serviceurl: options.serviceUrl ?? 'https://smba.trafficmanager.net/amer/',
      nbf: now - 60,
      exp: now + (options.expiresInSeconds ?? 3600),
    },
    key.privateKey,
    { algorithm: 'RS256', keyid: key.kid },
  );
}

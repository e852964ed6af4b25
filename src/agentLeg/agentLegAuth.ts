import { AuthType, type AuthConfiguration } from '@microsoft/agents-hosting';
import type { AgentLegSettings } from './agentLegSettings.js';

const CONNECTION_NAME = 'agentLeg';

/** Issuers of Bot Framework channel-service tokens (public and US Government clouds). */
const CHANNEL_SERVICE_ISSUERS = new Set(['https://api.botframework.com', 'https://api.botframework.us']);

/**
 * The Agents SDK auth configuration, built from our validated settings rather than read from
 * `process.env` by the SDK: a connection map with one connection, so environment variables that
 * happen to be set (`clientId`, `Connections__*`) cannot change who the bot trusts.
 *
 * With an app id the SDK checks, for every request: an RS256 signature from the issuer's published
 * keys, the audience (our app id), expiry, the issuer (Bot Framework channel service or our Entra
 * tenant, `validateIssuer`) and that an Entra token's `tid` matches its issuer. Without one, requests
 * without an Authorization header are anonymous (and any token is refused: it cannot be for us).
 */
export function toAuthConfiguration(settings: AgentLegSettings): AuthConfiguration {
  const connection: AuthConfiguration =
    settings.appId === undefined
      ? {}
      : {
          clientId: settings.appId,
          ...(settings.tenantId === undefined ? {} : { tenantId: settings.tenantId }),
          validateIssuer: true,
          ...(settings.credential?.kind === 'client-secret'
            ? { authType: AuthType.ClientSecret, clientSecret: settings.credential.secret }
            : { authType: AuthType.UserManagedIdentity }),
        };
  return {
    ...connection,
    connections: new Map([[CONNECTION_NAME, connection]]),
    connectionsMap: [{ serviceUrl: '*', connection: CONNECTION_NAME }],
  };
}

export type CallerCheck = { readonly allowed: true; readonly caller: string } | { readonly allowed: false; readonly reason: string };

/**
 * Whether the (already authenticated) caller may talk to the agent leg. Channel-service tokens come
 * from the bot's own Azure Bot channels (Contact Center voice) and are accepted; a token from another
 * agent (a skill call: Entra-issued, naming the calling app in `azp` or `appid`) must name an app on
 * the allow-list, as Bot Framework's allowed-callers validation does for skills.
 */
export function checkCaller(claims: Readonly<Record<string, unknown>> | undefined, settings: AgentLegSettings): CallerCheck {
  if (settings.appId === undefined) return { allowed: true, caller: 'anonymous' };
  const issuer = typeof claims?.['iss'] === 'string' ? claims['iss'].toLowerCase() : '';
  if (CHANNEL_SERVICE_ISSUERS.has(issuer)) return { allowed: true, caller: 'channel-service' };
  const azp = claims?.['azp'];
  const appid = claims?.['appid'];
  const caller = typeof azp === 'string' ? azp : typeof appid === 'string' ? appid : undefined;
  if (caller === undefined) return { allowed: false, reason: 'the token names no calling app (azp or appid claim)' };
  const allowed = settings.allowedCallers.includes('*') || settings.allowedCallers.some((id) => id.toLowerCase() === caller.toLowerCase());
  return allowed ? { allowed: true, caller } : { allowed: false, reason: `calling app ${caller} is not an allowed caller of the agent leg` };
}

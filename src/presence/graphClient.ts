import type { TokenCredential } from '@azure/identity';
import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { z } from 'zod';
import { parseRetryAfter } from '../http/parseRetryAfter.js';
import { shareTokenRequests } from '../http/shareTokenRequests.js';

/** Application permissions come with the `.default` scope of the resource. */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

/**
 * Retry settings for the Graph client's own RetryHandler, which retries 429, 503 and 504 and honours
 * Retry-After; we only bound it. (We do not wrap it in a second retry loop.)
 */
export const graphRetryOptionsSchema = z.strictObject({
  /** Retries after the first try; the Graph client allows at most 10. */
  maxRetries: z.int().min(0).max(10).default(3),
  /** Base backoff in seconds when Graph sends no Retry-After (the client adds up to 1 s of jitter). */
  delaySeconds: z.number().min(0).max(180).default(1),
  /**
   * A Retry-After longer than this is not waited for: the call fails at once as throttled, so a
   * pacing tick is not held up for minutes (the client itself would wait up to 180 s).
   */
  maxRetryAfterSeconds: z.number().min(0).max(180).default(30),
});
export type GraphRetryOptions = z.output<typeof graphRetryOptionsSchema>;

export interface GraphClientOptions {
  readonly credential: TokenCredential;
  readonly retry: GraphRetryOptions;
}

/**
 * A Microsoft Graph client authenticated by an @azure/identity credential (production:
 * DefaultAzureCredential, i.e. the Function app's managed identity). Same middleware as the
 * library's default chain, with the RetryHandler configured and bounded; concurrent requests share
 * one token request.
 */
export function createGraphClient(options: GraphClientOptions): Client {
  const authProvider = new TokenCredentialAuthenticationProvider(shareTokenRequests(options.credential), { scopes: [GRAPH_SCOPE] });
  const { maxRetries, delaySeconds, maxRetryAfterSeconds } = options.retry;
  const shouldRetry = (_delay: number, _attempt: number, _request: unknown, _options: unknown, response: Response): boolean => {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
    return retryAfterMs === undefined || retryAfterMs <= maxRetryAfterSeconds * 1000;
  };
  return Client.initWithMiddleware({
    middleware: [
      new AuthenticationHandler(authProvider),
      new RetryHandler(new RetryHandlerOptions(delaySeconds, maxRetries, shouldRetry)),
      new RedirectHandler(new RedirectHandlerOptions()),
      new TelemetryHandler(),
      new HTTPMessageHandler(),
    ],
    defaultVersion: 'v1.0',
  });
}

import type { AccessToken, TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { SystemError, ensureError } from '../../errors.js';
import type { RetryOptions } from '../../http/retryOptions.js';
import { sendWithRetries, type SendWithRetriesOptions } from '../../http/sendWithRetries.js';
import { shareTokenRequests } from '../../http/shareTokenRequests.js';
import { scrubPhoneNumbers } from './scrubPhoneNumbers.js';

/** The Web API version the CCaaS actions are documented under. */
export const DATAVERSE_API_PATH = '/api/data/v9.2';

/** What a Dataverse action call came to, once retries are over. */
export type ActionOutcome =
  | { readonly ok: true; readonly status: number; readonly body: unknown }
  /** A 4xx other than 408/429: Dataverse refused this request; retrying it unchanged cannot help. */
  | { readonly ok: false; readonly status: number; readonly code?: string; readonly message: string };

export interface DataverseClientOptions {
  /** Origin of the organization, e.g. https://contoso.crm.dynamics.com. */
  readonly orgUrl: string;
  readonly credential: TokenCredential;
  readonly retry: RetryOptions;
  readonly random?: () => number;
  /** The wait between tries (see {@link SendWithRetriesOptions.sleep}); a real timer by default. */
  readonly sleep?: SendWithRetriesOptions['sleep'];
  /** The clock retries measure their budget and Retry-After dates with; Date.now by default. */
  readonly now?: () => number;
}

/** The OData error body Dataverse returns: `{ "error": { "code": "0x80040265", "message": "..." } }`. */
const odataErrorSchema = z.object({
  error: z.object({ code: z.string().optional(), message: z.string() }),
});

/** Longest error text kept from a body that is not an OData error (an HTML gateway page, say). */
const MAX_ERROR_TEXT = 300;

/**
 * Calls Dataverse Web API unbound actions with an Entra bearer token for `{orgUrl}/.default`,
 * retrying throttling and transient faults (see {@link sendWithRetries}). The token is looked up
 * per try (cached, shared between concurrent calls) so a long Retry-After wait cannot outlive it.
 */
export class DataverseClient {
  private readonly scope: string;
  private readonly credential: TokenCredential;

  constructor(private readonly options: DataverseClientOptions) {
    this.scope = `${options.orgUrl}/.default`;
    // Token expiry is judged on the same clock the tokens' lifetimes and the retry budget use.
    this.credential = shareTokenRequests(options.credential, options.now ?? Date.now);
  }

  /**
   * POSTs `body` to `{orgUrl}/api/data/v9.2/{action}`. Returns the outcome for 2xx and for 4xx
   * refusals; throws a retryable SystemError when retries run out, and a non-retryable one when the
   * token cannot be had or Dataverse refuses the caller itself (401/403), since that fails every
   * request alike and no delivery is at fault.
   */
  async invokeAction(action: string, body: object, signal?: AbortSignal): Promise<ActionOutcome> {
    return this.send('POST', `${this.options.orgUrl}${DATAVERSE_API_PATH}/${action}`, `Dataverse ${action}`, JSON.stringify(body), {}, signal);
  }

  /**
   * GETs `pathAndQuery` (relative to `{orgUrl}/api/data/v9.2/`, or an absolute `@odata.nextLink` of
   * this organization): a table query or an OData function such as CCaaS_GetDeliveryTasks. Same
   * retries and errors as {@link invokeAction}; `operation` names it in messages (no data in it).
   */
  async read(pathAndQuery: string, operation: string, headers: Readonly<Record<string, string>> = {}, signal?: AbortSignal): Promise<ActionOutcome> {
    const url = pathAndQuery.startsWith(`${this.options.orgUrl}/`) ? pathAndQuery : `${this.options.orgUrl}${DATAVERSE_API_PATH}/${pathAndQuery}`;
    return this.send('GET', url, `Dataverse ${operation}`, undefined, headers, signal);
  }

  private async send(
    method: 'GET' | 'POST',
    url: string,
    operation: string,
    payload: string | undefined,
    extraHeaders: Readonly<Record<string, string>>,
    signal: AbortSignal | undefined,
  ): Promise<ActionOutcome> {
    const response = await sendWithRetries(
      async (trySignal) =>
        fetch(url, {
          method,
          headers: {
            Authorization: `Bearer ${await this.token(operation, trySignal)}`,
            'OData-Version': '4.0',
            'OData-MaxVersion': '4.0',
            Accept: 'application/json',
            ...(payload === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
            ...extraHeaders,
          },
          ...(payload === undefined ? {} : { body: payload }),
          signal: trySignal,
        }),
      {
        retry: this.options.retry,
        operation,
        ...(signal === undefined ? {} : { signal }),
        ...(this.options.random === undefined ? {} : { random: this.options.random }),
        ...(this.options.sleep === undefined ? {} : { sleep: this.options.sleep }),
        ...(this.options.now === undefined ? {} : { now: this.options.now }),
      },
    );
    const text = await response.text();
    if (response.ok) return { ok: true, status: response.status, body: parseJson(text) };
    const { code, message } = readError(text);
    if (response.status === 401 || response.status === 403) {
      throw new SystemError(
        'DependencyFailed',
        `${operation} refused the caller (HTTP ${response.status}${code === undefined ? '' : `, ${code}`}): ${message}. ` +
          'The app registration needs an application user in this Dataverse environment with the Omnichannel agent or supervisor role.',
        false,
      );
    }
    return { ok: false, status: response.status, ...(code === undefined ? {} : { code }), message };
  }

  private async token(operation: string, signal: AbortSignal): Promise<string> {
    let token: AccessToken | null;
    try {
      token = await this.credential.getToken(this.scope, { abortSignal: signal });
    } catch (thrown) {
      const error = ensureError(thrown);
      // A transient Entra outage is worth a redelivery; a wrong secret, tenant or scope is not.
      const message = `${operation}: could not get a token for ${this.scope}: ${error.message}`;
      throw new SystemError('DependencyFailed', message, !isPermanentTokenFailure(error), { cause: error });
    }
    if (token === null) {
      throw new SystemError('DependencyFailed', `${operation}: the credential returned no token for ${this.scope}`, false);
    }
    return token.token;
  }
}

/** OAuth 2.0 error codes (RFC 6749 §5.2) that no retry will cure. */
const PERMANENT_OAUTH_ERRORS: ReadonlySet<string> = new Set([
  'invalid_client',
  'unauthorized_client',
  'invalid_request',
  'invalid_grant',
  'invalid_scope',
  'unsupported_grant_type',
  'invalid_resource',
]);

/**
 * @azure/identity wraps Entra's answer (an MSAL ServerError with the OAuth `errorCode` and HTTP
 * `status`) as the error's cause; either level may carry the facts.
 */
function isPermanentTokenFailure(error: Error): boolean {
  for (const candidate of [error, error.cause]) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const facts = candidate as { errorCode?: unknown; status?: unknown; statusCode?: unknown };
    if (typeof facts.errorCode === 'string' && PERMANENT_OAUTH_ERRORS.has(facts.errorCode)) return true;
    const status = typeof facts.statusCode === 'number' ? facts.statusCode : facts.status;
    if (typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429) return true;
  }
  return false;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function readError(text: string): { code?: string; message: string } {
  const parsed = odataErrorSchema.safeParse(parseJson(text));
  if (parsed.success) {
    const { code, message } = parsed.data.error;
    return { ...(code === undefined ? {} : { code }), message: scrubPhoneNumbers(message) };
  }
  const raw = text.trim().slice(0, MAX_ERROR_TEXT);
  return { message: raw === '' ? 'no error message in the response' : scrubPhoneNumbers(raw) };
}

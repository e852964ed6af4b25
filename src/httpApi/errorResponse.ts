import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { ensureError, SystemError, UserError, type ErrorCode } from '../errors.js';

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  InvalidRequest: 400,
  InvalidMessage: 400,
  EngagementNotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  Unauthorized: 401,
  OutcomeRefused: 409,
  Throttled: 429,
};

/** The JSON error body every HTTP function returns: a code, a sentence, and field issues when there are any. */
export interface ErrorBody {
  readonly error: ErrorCode | 'InternalError';
  readonly message: string;
  readonly issues?: readonly { readonly path: string; readonly message: string }[];
}

/**
 * Maps a thrown error to a response. Caller mistakes keep their code and issues; dependency failures
 * become 503 (with Retry-After when known) so Customer Insights retries; anything else is a 500 whose
 * details go to the log, not to the caller.
 */
export function errorResponse(thrown: unknown, context: InvocationContext): HttpResponseInit {
  const error = ensureError(thrown);
  if (error instanceof UserError) {
    const status = STATUS_BY_CODE[error.code] ?? 400;
    const body: ErrorBody = { error: error.code, message: error.message, ...(error.details === undefined ? {} : { issues: error.details }) };
    return { status, jsonBody: body };
  }
  if (error instanceof SystemError) {
    context.warn(`dependency failure (${error.code}, retryable=${error.retryable}): ${error.message}`);
    const headers: Record<string, string> = {};
    if (error.retryAfterMs !== undefined) headers['Retry-After'] = String(Math.ceil(error.retryAfterMs / 1000));
    else if (error.retryable) headers['Retry-After'] = String(OUTAGE_RETRY_AFTER_SECONDS);
    const body: ErrorBody = { error: error.code, message: error.message };
    return { status: error.retryable ? 503 : 500, headers, jsonBody: body };
  }
  if (isDependencyOutage(error)) {
    // Named by kind only: the SDKs' messages can carry account names, endpoints and request URLs.
    context.warn(`dependency unavailable (${error.name}${statusOf(error) === undefined ? '' : ` ${statusOf(error)}`})`);
    const body: ErrorBody = { error: 'DependencyFailed', message: 'a dependency is unavailable; retry the same request later' };
    return { status: 503, headers: { 'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS) }, jsonBody: body };
  }
  context.error(`unexpected failure: ${error.stack ?? error.message}`);
  const body: ErrorBody = { error: 'InternalError', message: `internal error; invocation ${context.invocationId}` };
  return { status: 500, jsonBody: body };
}

/** Retry-After for a dependency outage the SDK surfaced: long enough for a restart, short for callers. */
export const OUTAGE_RETRY_AFTER_SECONDS = 10;

function statusOf(error: Error): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * An Azure SDK failure that says the service is down or unreachable (Table Storage's RestError without
 * a status or with a 5xx / 408 / 429, Service Bus errors it marks retryable), rather than a fault in
 * the request: the caller should retry the same request.
 */
export function isDependencyOutage(error: Error): boolean {
  if (error.name === 'RestError') {
    const status = statusOf(error);
    return status === undefined || status >= 500 || status === 408 || status === 429;
  }
  if (error.name === 'ServiceBusError' || error.name === 'MessagingError') return (error as { retryable?: unknown }).retryable === true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code);
}

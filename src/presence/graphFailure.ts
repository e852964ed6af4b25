import { GraphError } from '@microsoft/microsoft-graph-client';
import { SystemError, ensureError } from '../errors.js';
import { parseRetryAfter } from '../http/parseRetryAfter.js';

/**
 * Turns whatever a Graph call threw (after the client's own retries) into a SystemError: throttling
 * and server faults are retryable; 401/403 name the permission to grant, since no retry will help.
 */
export function graphFailure(thrown: unknown, operation: string, permission: string): SystemError {
  if (thrown instanceof SystemError) return thrown;
  if (thrown instanceof GraphError) {
    const status = thrown.statusCode;
    const detail = `${operation}: Graph answered ${status}${thrown.code === null ? '' : ` (${thrown.code})`}: ${thrown.message}`;
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(thrown.headers?.get('retry-after'), Date.now());
      return new SystemError('Throttled', detail, true, { cause: thrown, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    }
    if (status === 401 || status === 403) {
      const hint = `Grant the app the ${permission} application permission (admin consent).`;
      return new SystemError('DependencyFailed', `${detail}. ${hint}`, false, { cause: thrown });
    }
    // -1: the request never got an answer (network failure); 5xx and 408 are transient.
    const retryable = status === -1 || status === 408 || status >= 500;
    return new SystemError('DependencyFailed', detail, retryable, { cause: thrown });
  }
  const error = ensureError(thrown);
  return new SystemError('DependencyFailed', `${operation}: ${error.message}`, true, { cause: error });
}

import { SystemError, UserError, ensureError } from '../errors.js';
import { backoffDelay } from './backoffDelay.js';
import { parseRetryAfter } from './parseRetryAfter.js';
import type { RetryOptions } from './retryOptions.js';

/** Statuses worth another try: throttling, timeouts and transient server faults (not 501/505, which are permanent). */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

export interface SendWithRetriesOptions {
  readonly retry: RetryOptions;
  /** Names the call in error messages ("Dataverse CCaaS_CancelDeliveryTask"); never put data in it. */
  readonly operation: string;
  /** Cancels the whole call, waits included. */
  readonly signal?: AbortSignal;
  readonly random?: () => number;
  readonly now?: () => number;
  /**
   * Waits between tries; rejects early when `signal` aborts. Injected so tests see the waits asked for
   * (a Retry-After honoured, a budget respected) without spending them; the default is a real timer.
   */
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

type Failure = { readonly kind: 'status'; readonly status: number } | { readonly kind: 'network'; readonly error: Error };

/**
 * Runs `send` until it yields a response that is not retryable, honouring `Retry-After` on 429/503
 * and backing off with jitter otherwise. Non-retryable responses (2xx, 3xx, 4xx other than
 * 408/429) are returned for the caller to interpret.
 *
 * Gives up with a retryable {@link SystemError} (`Throttled` when the last answer was 429, else
 * `DependencyFailed`) when tries run out or the next wait would overrun `maxTotalMs`; the caller
 * keeps its work pending and Service Bus redelivery takes over from there. A server asking for a
 * longer wait than the budget allows is not waited for: its delay is passed on as `retryAfterMs`.
 *
 * Timeline with the defaults (4 tries, 0.5 s base): try 1 -> ~0.25-0.5 s -> try 2 -> ~0.5-1 s ->
 * try 3 -> ~1-2 s -> try 4 -> give up.
 */
export async function sendWithRetries(send: (signal: AbortSignal) => Promise<Response>, options: SendWithRetriesOptions): Promise<Response> {
  const { retry, operation } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const started = now();
  let last: Failure | undefined;
  let nextWaitMs = 0;
  let attempt = 0;
  while (attempt < retry.maxAttempts) {
    attempt += 1;
    const trySignal = combine(AbortSignal.timeout(retry.requestTimeoutMs), options.signal);
    let retryAfterMs: number | undefined;
    try {
      const response = await send(trySignal);
      if (!isRetryableStatus(response.status)) return response;
      // Drain the body so the connection is reused; its text is not needed for a retry decision.
      await response.arrayBuffer().catch(() => undefined);
      last = { kind: 'status', status: response.status };
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
    } catch (thrown) {
      if (options.signal?.aborted === true) throw ensureError(options.signal.reason ?? thrown);
      // `send` raised it on purpose (no token, say): that decision is final, not a network blip.
      if (thrown instanceof SystemError || thrown instanceof UserError) throw thrown;
      last = { kind: 'network', error: ensureError(thrown) };
    }
    nextWaitMs = retryAfterMs ?? backoffDelay(attempt + 1, retry, options.random);
    if (attempt >= retry.maxAttempts) break;
    if (now() - started + nextWaitMs > retry.maxTotalMs) break;
    await sleep(nextWaitMs, options.signal);
  }
  throw exhausted(operation, attempt, now() - started, last, nextWaitMs);
}

function exhausted(operation: string, attempts: number, elapsedMs: number, last: Failure | undefined, nextWaitMs: number): SystemError {
  const what = last === undefined ? 'no answer' : last.kind === 'status' ? `HTTP ${last.status}` : `network error (${last.error.message})`;
  const throttled = last?.kind === 'status' && last.status === 429;
  return new SystemError(
    throttled ? 'Throttled' : 'DependencyFailed',
    `${operation} failed after ${attempts} ${attempts === 1 ? 'try' : 'tries'} in ${elapsedMs} ms; last: ${what}`,
    true,
    { cause: last?.kind === 'network' ? last.error : undefined, retryAfterMs: nextWaitMs },
  );
}

function combine(timeout: AbortSignal, outer: AbortSignal | undefined): AbortSignal {
  return outer === undefined ? timeout : AbortSignal.any([timeout, outer]);
}

/** A wait that ends early (rejecting) when the call is aborted. */
function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(ensureError(signal.reason));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(ensureError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

import { z } from 'zod';

/**
 * How an adapter retries a throttled (429) or failed (5xx, network) HTTP call before giving up and
 * leaving the work to Service Bus redelivery. Both bounds apply: whichever is reached first stops.
 */
export interface RetryOptions {
  /** Tries in total, the first one included. */
  readonly maxAttempts: number;
  /** Backoff before the second try; doubles per try, before jitter. */
  readonly baseDelayMs: number;
  /** Cap on one computed backoff (not on a server's Retry-After, which is honoured or given up on). */
  readonly maxDelayMs: number;
  /** Budget for all tries and waits of one call; a wait that would overrun it is not started. */
  readonly maxTotalMs: number;
  /** One try is abandoned (and counts as a network failure) after this long. */
  readonly requestTimeoutMs: number;
}

/**
 * Defaults, in one place. Four tries with 0.5 s, 1 s, 2 s backoff fit well inside a Functions
 * invocation; 30 s total keeps a throttled pacing tick from stalling the next one.
 */
export const DEFAULT_RETRY_OPTIONS: RetryOptions = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxTotalMs: 30_000,
  requestTimeoutMs: 20_000,
});

export const retryOptionsSchema = z
  .strictObject({
    maxAttempts: z.int().min(1).max(10).default(DEFAULT_RETRY_OPTIONS.maxAttempts),
    baseDelayMs: z.int().min(0).max(60_000).default(DEFAULT_RETRY_OPTIONS.baseDelayMs),
    maxDelayMs: z.int().min(0).max(300_000).default(DEFAULT_RETRY_OPTIONS.maxDelayMs),
    maxTotalMs: z.int().min(0).max(600_000).default(DEFAULT_RETRY_OPTIONS.maxTotalMs),
    requestTimeoutMs: z.int().min(100).max(300_000).default(DEFAULT_RETRY_OPTIONS.requestTimeoutMs),
  })
  .refine((o) => o.baseDelayMs <= o.maxDelayMs, { path: ['baseDelayMs'], message: 'baseDelayMs must not exceed maxDelayMs' });

import type { RetryOptions } from './retryOptions.js';

/**
 * The wait before try number `nextAttempt` (2 for the first retry): exponential from `baseDelayMs`,
 * capped at `maxDelayMs`, with "equal jitter" (half fixed, half random) so many instances throttled
 * at the same moment do not retry in lockstep, while every wait stays at least half the nominal one.
 *
 * @param random - a number in [0, 1); injected so the delay is reproducible in tests.
 */
export function backoffDelay(nextAttempt: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const exponent = Math.max(0, nextAttempt - 2);
  const nominal = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
  const half = nominal / 2;
  return Math.round(half + random() * half);
}

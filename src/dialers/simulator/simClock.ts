/** Opaque handle of a scheduled callback. */
export type TimerId = number;

/**
 * The simulator's only source of time. The virtual clock runs a discrete-event simulation (no real
 * waiting, for tests and benchmarks); the real-time clock drives the local host with timers, optionally
 * faster than real time.
 */
export interface SimClock {
  /** Milliseconds since the Unix epoch, in simulated time. */
  now(): number;
  /** Runs `fn` when simulated time reaches `at` (at once, in order, if `at` is already past). */
  schedule(at: number, fn: () => void): TimerId;
  /** Forgets a callback that has not run yet; unknown ids are ignored. */
  cancel(id: TimerId): void;
}

/**
 * The broker's only source of time: enqueue times, lock expiries, time to live, scheduled messages and
 * duplicate detection all read it. The system clock is the default; a test passes a manual clock (the
 * shape matches the telephony simulator's `VirtualClock`) and moves it forward instead of waiting.
 */
export interface BrokerClock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once the clock reaches `at`; the returned id cancels it. */
  schedule(at: number, fn: () => void): number;
  /** Forgets a callback that has not run yet; unknown ids are ignored. */
  cancel(id: number): void;
}

export const systemClock: BrokerClock = {
  now: () => Date.now(),
  schedule(at, fn) {
    const timer = setTimeout(fn, Math.max(0, at - Date.now()));
    // Locks and schedules alone must not keep a process alive; the listening socket does that.
    timer.unref();
    // Node accepts the timer's primitive id in clearTimeout.
    return timer[Symbol.toPrimitive]();
  },
  cancel: (id) => clearTimeout(id),
};

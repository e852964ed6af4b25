import type { SimClock, TimerId } from './simClock.js';

export interface RealTimeClockOptions {
  /** Simulated milliseconds per real millisecond (1 = real time, 60 = a minute per second). */
  readonly scale?: number;
  /** Simulated time at creation; defaults to the real time. */
  readonly start?: Date;
}

/** Simulated time that follows the wall clock (optionally faster), with real timers. */
export class RealTimeClock implements SimClock {
  private readonly scale: number;
  private readonly startSim: number;
  private readonly startReal: number;
  private readonly timers = new Map<TimerId, NodeJS.Timeout>();
  private seq = 0;

  constructor(options: RealTimeClockOptions = {}) {
    const scale = options.scale ?? 1;
    if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`scale must be a positive number, got ${scale}`);
    this.scale = scale;
    this.startReal = performance.now();
    this.startSim = (options.start ?? new Date()).getTime();
  }

  now(): number {
    return this.startSim + (performance.now() - this.startReal) * this.scale;
  }

  schedule(at: number, fn: () => void): TimerId {
    const id = ++this.seq;
    const delay = Math.max(0, (at - this.now()) / this.scale);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, delay);
    this.timers.set(id, timer);
    return id;
  }

  cancel(id: TimerId): void {
    const timer = this.timers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(id);
  }

  /** Clears every pending timer (the host is shutting down). */
  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

import type { CallEnd, PlacedCall, StandInTelephony } from './dataverseStandIn.js';

/** Outcomes of the seeded model, with their weights and SIP codes (Microsoft's mapping). */
const OUTCOMES: ReadonlyArray<{ readonly weight: number; readonly result: string; readonly sipCode?: number }> = [
  { weight: 35, result: 'LiveAnswer' },
  { weight: 20, result: 'NoAnswer', sipCode: 480 },
  { weight: 10, result: 'Busy', sipCode: 486 },
  { weight: 15, result: 'AnsweringMachine' },
  { weight: 5, result: 'AnsweringMachineHangup' },
  { weight: 5, result: 'InvalidAddress', sipCode: 404 },
  { weight: 5, result: 'CallFailed', sipCode: 503 },
  { weight: 3, result: 'Abandoned' },
  { weight: 2, result: 'NonRetriableError', sipCode: 488 },
];

/**
 * A small telephony for `npm start` when the app's telephony simulator is not plugged in: each call
 * ends after 5-30 s (real time, divided by `timeScale`) with an outcome drawn from a seeded stream.
 */
export class SeededTelephony implements StandInTelephony {
  private state: number;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    seed: number,
    private readonly timeScale = 1,
  ) {
    this.state = seed >>> 0 || 1;
  }

  place(_call: PlacedCall, report: (end: CallEnd) => void): void {
    const total = OUTCOMES.reduce((sum, o) => sum + o.weight, 0);
    let pick = this.next() * total;
    const outcome = OUTCOMES.find((o) => (pick -= o.weight) < 0) ?? OUTCOMES[0];
    const delayMs = (5_000 + this.next() * 25_000) / this.timeScale;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (outcome !== undefined)
        report({ result: outcome.result, at: new Date().toISOString(), ...(outcome.sipCode === undefined ? {} : { sipCode: outcome.sipCode }) });
    }, delayMs);
    this.timers.add(timer);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** mulberry32 */
  private next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

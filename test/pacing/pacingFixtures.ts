import type { CallEvent } from '../../src/contacts/callEvent.js';
import type { CallResult } from '../../src/contacts/callResult.js';
import type { EngagementConfig, QueueConfig } from '../../src/engagement/engagementSchema.js';
import { NO_ACTIVE_CALLS, type ActiveCalls } from '../../src/pacing/activeCalls.js';
import { decidePacing, type OutcomeSource, type PacingInputs, type PacingResult } from '../../src/pacing/decidePacing.js';
import type { PacingDecision } from '../../src/pacing/pacingDecision.js';
import { emptyPacingState } from '../../src/pacing/pacingState.js';
import { makeQueue } from '../support/engagements.js';

/** Tuesday 10 March 2026, 15:00 UTC. */
export const NOW = new Date('2026-03-10T15:00:00.000Z');

export function reps(count: number, prefix = 'rep'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);
}

export function active(partial: Partial<ActiveCalls> = {}): ActiveCalls {
  return { ...NO_ACTIVE_CALLS, ...partial };
}

let sequence = 0;
/** `count` outcome events of one result, ending `secondsAgo` before NOW. */
export function events(count: number, result: CallResult, extra: Partial<CallEvent> = {}, secondsAgo = 60, engagementId = 'test-engagement'): CallEvent[] {
  return Array.from({ length: count }, () => ({
    deliveryId: `d-${++sequence}`,
    attempt: 1,
    engagementId,
    result,
    at: new Date(NOW.getTime() - secondsAgo * 1000).toISOString(),
    ...extra,
  }));
}

export interface TickOptions {
  readonly now?: Date;
  readonly queues?: readonly QueueConfig[];
  readonly available?: Readonly<Record<string, readonly string[]>>;
  readonly staffed?: Readonly<Record<string, number>>;
  readonly active?: Readonly<Record<string, ActiveCalls>>;
  readonly outcomes?: Readonly<Record<string, OutcomeSource>>;
  readonly pending?: Readonly<Record<string, number>>;
  readonly ukEngagements?: readonly string[];
  readonly state?: PacingInputs['state'];
}

/** One decidePacing call with sensible defaults: queue q1 open around the clock, 100 pending per engagement. */
export function tick(engagements: readonly EngagementConfig[], options: TickOptions = {}): PacingResult {
  const queues = options.queues ?? [makeQueue()];
  return decidePacing({
    now: options.now ?? NOW,
    engagements,
    queues: new Map(queues.map((q) => [q.name, q])),
    availableRepresentatives: new Map(Object.entries(options.available ?? { q1: reps(3) })),
    ...(options.staffed === undefined ? {} : { staffedRepresentatives: new Map(Object.entries(options.staffed)) }),
    active: new Map(Object.entries(options.active ?? {})),
    outcomes: new Map(Object.entries(options.outcomes ?? {})),
    pending: new Map(Object.entries(options.pending ?? Object.fromEntries(engagements.map((e) => [e.id, 100])))),
    ...(options.ukEngagements === undefined ? {} : { ukEngagements: new Set(options.ukEngagements) }),
    state: options.state ?? emptyPacingState(),
  });
}

export function decisionOf(result: PacingResult, engagementId = 'test-engagement'): PacingDecision {
  const decision = result.decisions.find((d) => d.engagementId === engagementId);
  if (decision === undefined) throw new Error(`no decision for ${engagementId}`);
  return decision;
}

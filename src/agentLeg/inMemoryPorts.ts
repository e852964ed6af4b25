import type { CallEvent } from '../contacts/callEvent.js';
import type { OutcomeRecorder, QueueCapacityPort, RecordOutcomeResult } from './ports.js';

/**
 * Outcomes kept in memory, idempotent per (deliveryId, attempt, result) like the production adapter
 * must be: for local runs, the simulator and tests.
 */
export class InMemoryOutcomeRecorder implements OutcomeRecorder {
  private readonly byKey = new Map<string, CallEvent>();

  async record(event: CallEvent): Promise<RecordOutcomeResult> {
    const key = `${event.deliveryId}\u0000${event.attempt}\u0000${event.result}`;
    if (this.byKey.has(key)) return 'duplicate';
    this.byKey.set(key, event);
    return 'recorded';
  }

  /** Everything recorded, in order. */
  get events(): readonly CallEvent[] {
    return [...this.byKey.values()];
  }
}

/** Queue capacity from a fixed table (queue name -> free); queues not listed have nobody free. */
export class StaticQueueCapacity implements QueueCapacityPort {
  readonly asked: { queue: string; skills: readonly string[] }[] = [];

  constructor(private readonly free: Readonly<Record<string, boolean>>) {}

  async hasCapacity(queueName: string, skills: readonly string[]): Promise<boolean> {
    this.asked.push({ queue: queueName, skills });
    return this.free[queueName] === true;
  }
}

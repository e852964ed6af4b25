import type { BrokerClock } from './brokerClock.js';
import type { BrokerSettings } from './config.js';
import { DEAD_LETTER_SUFFIX, QueueStore, type QueueStats } from './queueStore.js';

export const MANAGEMENT_SUFFIX = '/$management';

/** Queue counts as a test or an operator wants them, dead-letter queue included. */
export interface EntityStats extends QueueStats {
  readonly deadLetter: number;
}

/**
 * The queues of the namespace, looked up by the addresses clients attach to: `queue`,
 * `queue/$DeadLetterQueue`, each optionally followed by `/$management`. Service Bus entity names are
 * case-insensitive.
 */
export class EntityRegistry {
  private readonly queues = new Map<string, QueueStore>();

  constructor(settings: BrokerSettings, log: (line: string) => void, clock: BrokerClock) {
    for (const queue of settings.queues) {
      this.queues.set(queue.name.toLowerCase(), new QueueStore(queue.name, queue, log, clock));
    }
  }

  get names(): string[] {
    return [...this.queues.values()].map((queue) => queue.name);
  }

  /** The main queue of that name (sends go only there). */
  queue(name: string): QueueStore | undefined {
    return this.queues.get(name.toLowerCase());
  }

  /** The store an address reads from: a queue or its dead-letter queue. */
  resolve(address: string): QueueStore | undefined {
    const path = address.replace(/^\/+/, '');
    if (path.toLowerCase().endsWith(DEAD_LETTER_SUFFIX.toLowerCase())) {
      return this.queue(path.slice(0, -DEAD_LETTER_SUFFIX.length))?.deadLetterQueue;
    }
    return this.queue(path);
  }

  stats(name: string): EntityStats {
    const queue = this.queue(name);
    if (queue === undefined) throw new Error(`no queue named '${name}' in the broker config`);
    const deadLetter = queue.deadLetterQueue?.stats();
    return { ...queue.stats(), deadLetter: deadLetter === undefined ? 0 : deadLetter.active };
  }

  close(): void {
    for (const queue of this.queues.values()) queue.close();
  }
}

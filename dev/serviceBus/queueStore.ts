import { AmqpConditionError, CONDITION_MESSAGE_NOT_FOUND, CONDITION_NOT_ALLOWED, lockLost } from './amqpConditionError.js';
import { systemClock, type BrokerClock } from './brokerClock.js';
import type { QueueSettings } from './config.js';
import { Deque } from './deque.js';
import { DuplicateDetector } from './duplicateDetector.js';
import type { EncodedMessage } from './encodedMessage.js';
import { newLockToken } from './lockToken.js';
import { MinHeap } from './minHeap.js';
import { SequenceIndex } from './sequenceIndex.js';
import { MESSAGE_STATE_ACTIVE, MESSAGE_STATE_DEFERRED, MESSAGE_STATE_SCHEDULED, StoredMessage, type Lock, type LockHolder } from './storedMessage.js';

export const DEAD_LETTER_SUFFIX = '/$DeadLetterQueue';
export const REASON_MAX_DELIVERY_COUNT = 'MaxDeliveryCountExceeded';
export const REASON_TTL_EXPIRED = 'TTLExpiredException';

/** Removed lock timers are dropped lazily; the heap is rebuilt once they dominate it. */
const MIN_LOCK_HEAP_COMPACTION = 1024;

/** A receive link as the store sees it: something with credit that takes messages. */
export interface Consumer {
  readonly holder: LockHolder;
  readonly receiveAndDelete: boolean;
  /** How many more messages it can take now (credit not yet used). */
  capacity(): number;
  deliver(message: StoredMessage, lock: Lock | undefined): void;
  /** Owned by the store: true while the consumer is in its waiting line. */
  waiting: boolean;
}

export interface PeekedMessage {
  readonly message: StoredMessage;
  readonly messageState: number;
}

export interface QueueStats {
  /** Ready plus locked, as Service Bus counts active messages. */
  readonly active: number;
  readonly locked: number;
  readonly scheduled: number;
  readonly deferred: number;
}

interface Timed<T> {
  readonly at: number;
  readonly item: T;
}

type ApplicationPropertyChanges = Readonly<Record<string, unknown>>;

function byTime<T>(a: Timed<T>, b: Timed<T>): number {
  return a.at - b.at;
}

/**
 * The messages of one queue (or of its dead-letter queue) and the receivers competing for them.
 *
 * Ready messages are a FIFO in sequence order plus a min-heap for messages that became ready again out
 * of order (abandoned, lock expired, scheduled time reached); the next delivery is the smaller head of
 * the two, so delivery is O(1) on the common path and O(log n) otherwise. Scheduled messages and lock
 * expiries are min-heaps served by a single timer per queue, re-armed only when an earlier deadline
 * appears, so a burst of deliveries with the same lock duration never touches the timer.
 */
export class QueueStore {
  readonly deadLetterQueue: QueueStore | undefined;
  private nextSequenceNumber = 1;
  private readonly ready = new Deque<StoredMessage>();
  private readonly readyOutOfOrder = new MinHeap<StoredMessage>((a, b) => a.sequenceNumber - b.sequenceNumber);
  private readonly scheduled = new MinHeap<Timed<StoredMessage>>(byTime);
  private readonly scheduledBySequence = new Map<number, StoredMessage>();
  private readonly deferredBySequence = new Map<number, StoredMessage>();
  private readonly locks = new Map<string, Lock>();
  private readonly lockExpiries = new MinHeap<Timed<Lock>>(byTime);
  private staleLockExpiries = 0;
  private readonly index = new SequenceIndex<StoredMessage>();
  private readonly duplicates: DuplicateDetector | undefined;
  private readonly consumers = new Set<Consumer>();
  private readonly waiting = new Deque<Consumer>();
  private pumping = false;
  private timer: number | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    readonly name: string,
    readonly settings: QueueSettings,
    private readonly log: (line: string) => void,
    private readonly clock: BrokerClock = systemClock,
    /** Dead-letter queues have none: they never expire or dead-letter their messages. */
    isDeadLetterQueue = false,
  ) {
    this.duplicates = settings.requiresDuplicateDetection && !isDeadLetterQueue ? new DuplicateDetector(settings.duplicateDetectionWindowMs) : undefined;
    this.deadLetterQueue = isDeadLetterQueue
      ? undefined
      : new QueueStore(
          `${name}${DEAD_LETTER_SUFFIX}`,
          {
            ...settings,
            name: `${name}${DEAD_LETTER_SUFFIX}`,
            maxDeliveryCount: Number.POSITIVE_INFINITY,
            defaultMessageTtlMs: Number.POSITIVE_INFINITY,
            requiresDuplicateDetection: false,
          },
          log,
          clock,
          true,
        );
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** Stores a sent message; a duplicate within the detection window is accepted and dropped. */
  send(encoded: EncodedMessage, now = this.clock.now()): 'stored' | 'duplicate' {
    if (this.isDuplicate(encoded, now)) return 'duplicate';
    this.store(encoded, now);
    return 'stored';
  }

  /** Stores a message to become active at its scheduled time; returns its sequence number. */
  schedule(encoded: EncodedMessage, now = this.clock.now()): number {
    if (this.isDuplicate(encoded, now)) {
      // The client still expects a sequence number; it names nothing, so cancelling it is a no-op.
      return this.nextSequenceNumber++;
    }
    return this.store(encoded, now).sequenceNumber;
  }

  /** Returns false when no scheduled message has that sequence number (already active or cancelled). */
  cancelScheduled(sequenceNumber: number): boolean {
    const message = this.scheduledBySequence.get(sequenceNumber);
    if (message === undefined) return false;
    this.scheduledBySequence.delete(sequenceNumber);
    this.remove(message);
    return true;
  }

  private isDuplicate(encoded: EncodedMessage, now: number): boolean {
    if (this.duplicates === undefined || encoded.messageIdKey === undefined) return false;
    return this.duplicates.isDuplicate(encoded.messageIdKey, now);
  }

  private store(encoded: EncodedMessage, now: number): StoredMessage {
    const sequenceNumber = this.nextSequenceNumber++;
    const at = encoded.scheduledEnqueueTimeMs;
    if (at !== undefined && at > now) {
      const message = new StoredMessage(sequenceNumber, encoded, at, Number.POSITIVE_INFINITY, 'scheduled', at, undefined);
      this.index.append(message);
      this.scheduled.push({ at, item: message });
      this.scheduledBySequence.set(sequenceNumber, message);
      this.arm();
      return message;
    }
    const message = new StoredMessage(sequenceNumber, encoded, now, now + this.ttlOf(encoded), 'ready', undefined, undefined);
    this.index.append(message);
    this.ready.push(message);
    this.pump(now);
    return message;
  }

  private ttlOf(encoded: EncodedMessage): number {
    const own = encoded.ttlMs;
    return own === undefined ? this.settings.defaultMessageTtlMs : Math.min(own, this.settings.defaultMessageTtlMs);
  }

  private acceptDeadLetter(from: StoredMessage, source: string, changes: ApplicationPropertyChanges, now: number): void {
    const message = new StoredMessage(
      this.nextSequenceNumber++,
      from.encoded.withApplicationProperties(changes),
      now,
      Number.POSITIVE_INFINITY,
      'ready',
      undefined,
      source,
    );
    message.deliveryCount = from.deliveryCount;
    this.index.append(message);
    this.ready.push(message);
    this.pump(now);
  }

  // ---- receivers -------------------------------------------------------------------------------

  addConsumer(consumer: Consumer): void {
    this.consumers.add(consumer);
    this.offer(consumer);
  }

  removeConsumer(consumer: Consumer): void {
    // Left in the waiting line if it is there; the pump skips consumers no longer registered.
    this.consumers.delete(consumer);
  }

  /** A consumer got credit: queue it for messages. */
  offer(consumer: Consumer): void {
    if (!consumer.waiting && this.consumers.has(consumer) && consumer.capacity() > 0) {
      consumer.waiting = true;
      this.waiting.push(consumer);
    }
    this.pump(this.clock.now());
  }

  /** Hands ready messages to waiting consumers, one each in turn, so competing receivers share the load. */
  private pump(now: number): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      for (let consumer = this.waiting.peek(); consumer !== undefined; consumer = this.waiting.peek()) {
        if (!this.consumers.has(consumer) || consumer.capacity() <= 0) {
          this.waiting.shift();
          consumer.waiting = false;
          continue;
        }
        const message = this.takeReady(now);
        if (message === undefined) break;
        this.waiting.shift();
        this.deliver(consumer, message, now);
        if (consumer.capacity() > 0) this.waiting.push(consumer);
        else consumer.waiting = false;
      }
    } finally {
      this.pumping = false;
    }
  }

  private takeReady(now: number): StoredMessage | undefined {
    for (;;) {
      const inOrder = this.ready.peek();
      const outOfOrder = this.readyOutOfOrder.peek();
      let message: StoredMessage | undefined;
      if (inOrder !== undefined && (outOfOrder === undefined || inOrder.sequenceNumber < outOfOrder.sequenceNumber)) {
        message = this.ready.shift();
      } else if (outOfOrder !== undefined) {
        message = this.readyOutOfOrder.pop();
      } else {
        return undefined;
      }
      // Entries whose message changed state since (expired through peek) are skipped here.
      if (message === undefined || message.state !== 'ready') continue;
      if (message.expiresAt <= now) {
        this.expire(message, now);
        continue;
      }
      return message;
    }
  }

  private deliver(consumer: Consumer, message: StoredMessage, now: number): void {
    if (consumer.receiveAndDelete) {
      this.remove(message);
      consumer.deliver(message, undefined);
      return;
    }
    const lock: Lock = {
      token: newLockToken(),
      message,
      expiresAt: now + this.settings.lockDurationMs,
      holder: consumer.holder,
      store: this,
    };
    this.lockMessage(message, lock);
    consumer.deliver(message, lock);
  }

  private lockMessage(message: StoredMessage, lock: Lock): void {
    message.state = 'locked';
    message.lock = lock;
    this.locks.set(lock.token.id, lock);
    lock.holder.locks.add(lock);
    this.lockExpiries.push({ at: lock.expiresAt, item: lock });
    this.arm();
  }

  private unlock(lock: Lock): void {
    lock.message.lock = undefined;
    this.locks.delete(lock.token.id);
    lock.holder.locks.delete(lock);
    this.staleLockExpiries++;
    if (this.staleLockExpiries >= MIN_LOCK_HEAP_COMPACTION && this.staleLockExpiries * 2 > this.lockExpiries.length) {
      this.lockExpiries.retain((entry) => this.isCurrent(entry));
      this.staleLockExpiries = 0;
    }
  }

  private isCurrent(entry: Timed<Lock>): boolean {
    return entry.item.message.lock === entry.item && entry.item.expiresAt === entry.at;
  }

  // ---- settlement ------------------------------------------------------------------------------

  findLock(lockTokenId: string): Lock | undefined {
    return this.locks.get(lockTokenId.toLowerCase());
  }

  /** Throws `MessageLockLost` unless the lock still holds; an overdue lock is released on the spot. */
  private assertLive(lock: Lock, now: number): void {
    if (lock.message.lock !== lock) throw lockLost(lock.token.id);
    if (lock.expiresAt <= now) {
      this.releaseLock(lock, now);
      throw lockLost(lock.token.id);
    }
  }

  complete(lock: Lock, now = this.clock.now()): void {
    this.assertLive(lock, now);
    this.unlock(lock);
    this.remove(lock.message);
  }

  abandon(lock: Lock, changes: ApplicationPropertyChanges = {}, now = this.clock.now()): void {
    this.assertLive(lock, now);
    this.unlock(lock);
    this.applyChanges(lock.message, changes);
    this.returnMessage(lock.message, now);
  }

  defer(lock: Lock, changes: ApplicationPropertyChanges = {}, now = this.clock.now()): void {
    this.assertLive(lock, now);
    this.unlock(lock);
    this.applyChanges(lock.message, changes);
    lock.message.state = 'deferred';
    lock.message.deferred = true;
    this.deferredBySequence.set(lock.message.sequenceNumber, lock.message);
  }

  deadLetter(lock: Lock, reason: string | undefined, description: string | undefined, changes: ApplicationPropertyChanges = {}, now = this.clock.now()): void {
    if (this.deadLetterQueue === undefined) {
      throw new AmqpConditionError(CONDITION_NOT_ALLOWED, `Cannot dead-letter a message of the dead-letter queue '${this.name}'; complete or abandon it.`);
    }
    this.assertLive(lock, now);
    this.unlock(lock);
    this.moveToDeadLetter(lock.message, { ...changes, DeadLetterReason: reason, DeadLetterErrorDescription: description }, now);
  }

  /** Extends a lock by the queue's lock duration; returns the new expiry. */
  renew(lock: Lock, now = this.clock.now()): number {
    this.assertLive(lock, now);
    this.staleLockExpiries++;
    lock.expiresAt = now + this.settings.lockDurationMs;
    this.lockExpiries.push({ at: lock.expiresAt, item: lock });
    this.arm();
    return lock.expiresAt;
  }

  /** The lock's holder is gone (connection lost) or the lock ran out: the message is delivered again. */
  releaseLock(lock: Lock, now = this.clock.now()): void {
    if (lock.message.lock !== lock) return;
    this.unlock(lock);
    this.returnMessage(lock.message, now);
  }

  private returnMessage(message: StoredMessage, now: number): void {
    message.deliveryCount++;
    if (message.deliveryCount >= this.settings.maxDeliveryCount && this.deadLetterQueue !== undefined) {
      this.log(`${this.name}: message #${message.sequenceNumber} dead-lettered after ${message.deliveryCount} deliveries`);
      this.moveToDeadLetter(
        message,
        {
          DeadLetterReason: REASON_MAX_DELIVERY_COUNT,
          DeadLetterErrorDescription: `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`,
        },
        now,
      );
      return;
    }
    if (message.deferred) {
      message.state = 'deferred';
      return;
    }
    message.state = 'ready';
    this.readyOutOfOrder.push(message);
    this.pump(now);
  }

  private applyChanges(message: StoredMessage, changes: ApplicationPropertyChanges): void {
    message.encoded = message.encoded.withApplicationProperties(changes);
  }

  private moveToDeadLetter(message: StoredMessage, changes: ApplicationPropertyChanges, now: number): void {
    this.remove(message);
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined && value !== null));
    this.deadLetterQueue?.acceptDeadLetter(message, this.name, defined, now);
  }

  private expire(message: StoredMessage, now: number): void {
    if (this.settings.deadLetteringOnMessageExpiration && this.deadLetterQueue !== undefined) {
      this.log(`${this.name}: message #${message.sequenceNumber} expired, dead-lettered`);
      this.moveToDeadLetter(message, { DeadLetterReason: REASON_TTL_EXPIRED, DeadLetterErrorDescription: 'The message expired and was dead lettered.' }, now);
    } else {
      this.remove(message);
    }
  }

  private remove(message: StoredMessage): void {
    if (message.state === 'removed') return;
    message.state = 'removed';
    message.lock = undefined;
    if (message.deferred) this.deferredBySequence.delete(message.sequenceNumber);
    this.index.noteRemoved();
  }

  // ---- $management reads -------------------------------------------------------------------------

  /** Messages from a sequence number on, in order, in any state but removed (as Service Bus peeks). */
  peek(fromSequenceNumber: number, count: number, now = this.clock.now()): PeekedMessage[] {
    const found = this.index.from(fromSequenceNumber, count, (message) => {
      if (message.state === 'ready' && message.expiresAt <= now) {
        this.expire(message, now);
        return false;
      }
      return true;
    });
    return found.map((message) => ({
      message,
      messageState: message.state === 'scheduled' ? MESSAGE_STATE_SCHEDULED : message.deferred ? MESSAGE_STATE_DEFERRED : MESSAGE_STATE_ACTIVE,
    }));
  }

  /** Locks (or removes, for receiveAndDelete) deferred messages by sequence number. */
  receiveDeferred(
    sequenceNumbers: readonly number[],
    receiveAndDelete: boolean,
    holder: LockHolder,
    now = this.clock.now(),
  ): Array<{ message: StoredMessage; lock: Lock | undefined }> {
    const messages = sequenceNumbers.map((sequenceNumber) => {
      const message = this.deferredBySequence.get(sequenceNumber);
      if (message === undefined || message.state !== 'deferred') {
        throw new AmqpConditionError(
          CONDITION_MESSAGE_NOT_FOUND,
          `The message with sequence number ${sequenceNumber} was not found in '${this.name}' or is not deferred.`,
        );
      }
      return message;
    });
    return messages.map((message) => {
      if (receiveAndDelete) {
        this.remove(message);
        return { message, lock: undefined };
      }
      const lock: Lock = { token: newLockToken(), message, expiresAt: now + this.settings.lockDurationMs, holder, store: this };
      this.lockMessage(message, lock);
      return { message, lock };
    });
  }

  /** Walks the whole queue: for tests and diagnostics, never on the delivery path. */
  stats(): QueueStats {
    let active = 0;
    let locked = 0;
    let deferred = 0;
    for (const message of this.index.from(0, Number.MAX_SAFE_INTEGER)) {
      if (message.state === 'ready') active++;
      else if (message.state === 'locked') locked++;
      else if (message.state === 'deferred') deferred++;
    }
    return { active: active + locked, locked, scheduled: this.scheduledBySequence.size, deferred };
  }

  // ---- timers ----------------------------------------------------------------------------------

  /** Arms the queue's single timer for the earliest lock expiry or scheduled time, if earlier than now set. */
  private arm(): void {
    if (this.closed) return;
    const lock = this.lockExpiries.peek();
    const scheduled = this.scheduled.peek();
    const next = Math.min(lock?.at ?? Number.POSITIVE_INFINITY, scheduled?.at ?? Number.POSITIVE_INFINITY);
    if (next === Number.POSITIVE_INFINITY || (this.timer !== undefined && this.timerAt <= next)) return;
    if (this.timer !== undefined) this.clock.cancel(this.timer);
    this.timerAt = next;
    this.timer = this.clock.schedule(next, () => this.onTimer());
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (let entry = this.lockExpiries.peek(); entry !== undefined && entry.at <= now; entry = this.lockExpiries.peek()) {
      this.lockExpiries.pop();
      if (this.isCurrent(entry)) {
        this.releaseLock(entry.item, now);
      } else if (this.staleLockExpiries > 0) {
        this.staleLockExpiries--;
      }
    }
    let activated = 0;
    for (let entry = this.scheduled.peek(); entry !== undefined && entry.at <= now; entry = this.scheduled.peek()) {
      this.scheduled.pop();
      const message = entry.item;
      if (message.state !== 'scheduled') continue;
      this.scheduledBySequence.delete(message.sequenceNumber);
      message.state = 'ready';
      message.enqueuedAt = entry.at;
      message.expiresAt = entry.at + this.ttlOf(message.encoded);
      this.readyOutOfOrder.push(message);
      activated++;
    }
    if (activated > 0) this.log(`${this.name}: ${activated} scheduled message(s) became active`);
    this.pump(now);
    this.arm();
  }

  /** Stops timers and forgets receivers; messages stay readable for inspection. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.cancel(this.timer);
    this.timer = undefined;
    this.consumers.clear();
    this.waiting.clear();
    this.deadLetterQueue?.close();
  }
}

import type { Delivery, EventContext, Sender } from 'rhea';
import { AmqpConditionError, CONDITION_DEAD_LETTER, CONDITION_INTERNAL_ERROR, describeError } from './amqpConditionError.js';
import type { Consumer, QueueStore } from './queueStore.js';
import { deliveryState, outcomes, senderInternals, settleOutgoing, type SenderInternals } from './rheaInternals.js';
import { encodeForDelivery, type Lock, type LockHolder, type StoredMessage } from './storedMessage.js';

/** How soon to retry answering a drain while transfers still wait for the client's session window. */
const DRAIN_RETRY_MS = 25;

/** Delivery tags for receiveAndDelete, where the SDK ignores the tag; peek-lock tags are lock tokens. */
let presettledTag = 0;

type Outcome = 'accepted' | 'released' | 'rejected' | 'modified';
const OUTCOME_EVENTS: readonly Outcome[] = ['accepted', 'released', 'rejected', 'modified'];

/**
 * The broker's end of a client's receive link on a queue or dead-letter queue.
 *
 * Credit is counted here, not read from rhea: rhea's `send()` queues a transfer even without credit
 * and lowers `credit` only when the transfer is written on a later tick, so a consumer that trusted
 * `credit` would lock messages the client never asked for. `position` counts every transfer handed to
 * rhea (plus credit given up by a drain) in the link's delivery-count space, so the credit really left
 * is `delivery_count + credit - position`.
 */
export class ConsumerLink implements Consumer {
  waiting = false;
  private position = 0;
  private readonly locks = new Map<Delivery, Lock>();
  private readonly internals: SenderInternals;
  private drainRetry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly sender: Sender,
    readonly store: QueueStore,
    readonly holder: LockHolder,
    readonly receiveAndDelete: boolean,
    private readonly log: (line: string) => void,
  ) {
    this.internals = senderInternals(sender);
  }

  start(): void {
    this.answerDrainsOnTime();
    this.sender.on('sender_flow', () => this.onFlow());
    // rhea raises `sendable` when its session buffer frees up after being full.
    this.sender.on('sendable', () => this.store.offer(this));
    for (const event of OUTCOME_EVENTS) {
      this.sender.on(event, (context: EventContext) => this.onOutcome(event, context));
    }
    this.sender.on('sender_close', () => this.close());
    this.sender.on('sender_error', () => this.close());
    this.store.addConsumer(this);
  }

  capacity(): number {
    if (this.closed || !this.sender.is_open()) return 0;
    const credit = this.internals.delivery_count + this.internals.credit - this.position;
    return Math.min(credit, this.internals.session.outgoing.available());
  }

  deliver(message: StoredMessage, lock: Lock | undefined): void {
    const bytes = encodeForDelivery(message, this.store.settings.defaultMessageTtlMs, { lockedUntil: lock?.expiresAt });
    const tag = lock === undefined ? Buffer.from(String(presettledTag++)) : lock.token.tag;
    // Format 0 with a Buffer: rhea sends the bytes as they are.
    const delivery = this.sender.send(bytes, tag, 0);
    this.position++;
    if (lock !== undefined) this.locks.set(delivery, lock);
  }

  /** Locks taken through this link stay with the connection when the link closes (the SDK can still settle through $management). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.removeConsumer(this);
    this.locks.clear();
    if (this.drainRetry !== undefined) clearTimeout(this.drainRetry);
    this.drainRetry = undefined;
  }

  private onFlow(): void {
    this.store.offer(this);
    if (this.internals._draining) {
      // Everything deliverable was just handed to rhea; the flow written next answers the drain.
      this.sender.set_drained(true);
    }
  }

  /**
   * Stock rhea echoes `drain` only while credit is left. When the last credit went to a message in the
   * same pass, the echo goes out without the flag, the SDK waits out its drain timeout and then closes
   * the link. Here the drain is answered whenever every queued transfer has been written: the leftover
   * credit is consumed and `drain=true` is always set.
   */
  private answerDrainsOnTime(): void {
    const internals = this.internals;
    internals._get_drain = () => {
      if (!internals._draining) return false;
      if (internals.delivery_count < this.position) {
        // Transfers are still queued behind the client's session window; answering now would strand them.
        this.retryDrainSoon();
        return false;
      }
      // Credit can only be negative if the client shrank it below what is in flight; nothing to give up then.
      internals.delivery_count += Math.max(0, internals.credit);
      internals.credit = 0;
      this.position = internals.delivery_count;
      internals._draining = false;
      return true;
    };
  }

  private retryDrainSoon(): void {
    if (this.drainRetry !== undefined || this.closed) return;
    this.drainRetry = setTimeout(() => {
      this.drainRetry = undefined;
      if (this.closed || !this.internals._draining) return;
      this.sender.set_drained(true);
      this.internals.connection._register();
    }, DRAIN_RETRY_MS);
    this.drainRetry.unref();
  }

  private onOutcome(outcome: Outcome, context: EventContext): void {
    const delivery = context.delivery;
    if (delivery === undefined) return;
    const lock = this.locks.get(delivery);
    if (lock === undefined) {
      // Presettled deliveries and repeated dispositions: nothing to settle.
      if (!delivery.settled) settleOutgoing(delivery, outcomes.accepted());
      return;
    }
    this.locks.delete(delivery);
    const state = deliveryState(delivery);
    try {
      switch (outcome) {
        case 'accepted':
          this.store.complete(lock);
          settleOutgoing(delivery, outcomes.accepted());
          return;
        case 'released':
          this.store.abandon(lock);
          settleOutgoing(delivery, outcomes.released());
          return;
        case 'modified': {
          const undeliverableHere = state?.['undeliverable_here'] === true;
          const changes = asChanges(state?.['message_annotations']);
          if (undeliverableHere) this.store.defer(lock, changes);
          else this.store.abandon(lock, changes);
          settleOutgoing(delivery, outcomes.modified(undeliverableHere));
          return;
        }
        case 'rejected': {
          const error = asChanges(state?.['error']);
          const { DeadLetterReason, DeadLetterErrorDescription, ...changes } = asChanges(error['info']);
          if (error['condition'] !== undefined && error['condition'] !== CONDITION_DEAD_LETTER) {
            this.log(`${this.store.name}: a receiver rejected a message with ${JSON.stringify(error['condition'])}; dead-lettering it`);
          }
          this.store.deadLetter(
            lock,
            typeof DeadLetterReason === 'string' ? DeadLetterReason : undefined,
            typeof DeadLetterErrorDescription === 'string' ? DeadLetterErrorDescription : undefined,
            changes,
          );
          // Echoing the client's dead-letter error back would make its deadLetter() call fail.
          settleOutgoing(delivery, outcomes.rejected());
          return;
        }
      }
    } catch (error) {
      const amqp = error instanceof AmqpConditionError ? error : new AmqpConditionError(CONDITION_INTERNAL_ERROR, `settling failed: ${describeError(error)}`);
      settleOutgoing(delivery, outcomes.rejected(amqp.toAmqp()));
    }
  }
}

function asChanges(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) ? (value as Record<string, unknown>) : {};
}

import { encodeLong, encodeString, encodeSymbol, encodeTimestamp, encodeValue } from './amqpEncoding.js';
import type { EncodedMessage } from './encodedMessage.js';
import type { LockToken } from './lockToken.js';
import type { QueueStore } from './queueStore.js';

export type MessageState = 'scheduled' | 'ready' | 'locked' | 'deferred' | 'removed';

/** `x-opt-message-state` values the SDK maps to `state` on peeked messages. */
export const MESSAGE_STATE_ACTIVE = 0;
export const MESSAGE_STATE_DEFERRED = 1;
export const MESSAGE_STATE_SCHEDULED = 2;

/** The connection a lock belongs to: when it goes away, its locks are released. */
export interface LockHolder {
  readonly locks: Set<Lock>;
}

/** A peek-lock on one message, valid while `message.lock` is this object and it has not expired. */
export interface Lock {
  readonly token: LockToken;
  readonly message: StoredMessage;
  expiresAt: number;
  readonly holder: LockHolder;
  /** The queue that settles it. */
  readonly store: QueueStore;
}

export class StoredMessage {
  state: MessageState;
  deliveryCount = 0;
  lock: Lock | undefined = undefined;
  /** Set while a deferred message is locked through receive-by-sequence-number, so release returns it to deferred. */
  deferred = false;

  constructor(
    readonly sequenceNumber: number,
    public encoded: EncodedMessage,
    public enqueuedAt: number,
    public expiresAt: number,
    state: MessageState,
    /** When `state` is 'scheduled': the time it becomes active. */
    readonly scheduledAt: number | undefined,
    /** The queue a dead-lettered message came from. */
    readonly deadLetterSource: string | undefined,
  ) {
    this.state = state;
  }

  get removed(): boolean {
    return this.state === 'removed';
  }
}

// Annotation keys encoded once: they go into every delivery.
const KEY_ENQUEUED_TIME = encodeSymbol('x-opt-enqueued-time');
const KEY_SEQUENCE_NUMBER = encodeSymbol('x-opt-sequence-number');
const KEY_LOCKED_UNTIL = encodeSymbol('x-opt-locked-until');
const KEY_DEADLETTER_SOURCE = encodeSymbol('x-opt-deadletter-source');
const KEY_MESSAGE_STATE = encodeSymbol('x-opt-message-state');

export interface DeliveryOptions {
  /** Lock expiry for peek-lock deliveries. */
  readonly lockedUntil?: number;
  /** `x-opt-message-state`, sent on peek and receive-by-sequence-number. */
  readonly messageState?: number;
}

/**
 * The bytes of a message as delivered: the original bare message with a fresh header (delivery count,
 * effective ttl) and the broker's annotations.
 */
export function encodeForDelivery(message: StoredMessage, defaultTtlMs: number, options: DeliveryOptions = {}): Buffer {
  const annotations: Buffer[] = [
    Buffer.concat([KEY_ENQUEUED_TIME, encodeTimestamp(message.enqueuedAt)]),
    Buffer.concat([KEY_SEQUENCE_NUMBER, encodeLong(message.sequenceNumber)]),
  ];
  if (options.lockedUntil !== undefined) {
    annotations.push(Buffer.concat([KEY_LOCKED_UNTIL, encodeTimestamp(options.lockedUntil)]));
  }
  if (message.deadLetterSource !== undefined) {
    annotations.push(Buffer.concat([KEY_DEADLETTER_SOURCE, encodeString(message.deadLetterSource)]));
  }
  if (options.messageState !== undefined) {
    annotations.push(Buffer.concat([KEY_MESSAGE_STATE, encodeValue(options.messageState)]));
  }
  const own = message.encoded.ttlMs;
  // Service Bus reports the effective time to live: the sender's, capped by the queue default.
  const ttl = own === undefined ? defaultTtlMs : Math.min(own, defaultTtlMs);
  return message.encoded.encode(message.deliveryCount, Number.isFinite(ttl) ? ttl : undefined, annotations);
}

import rhea from 'rhea';
import { AmqpConditionError, CONDITION_ARGUMENT_ERROR, CONDITION_MESSAGE_SIZE_EXCEEDED, CONDITION_NOT_IMPLEMENTED, lockLost } from './amqpConditionError.js';
import { EncodedMessage } from './encodedMessage.js';
import { uuidFromBytes, uuidToBytes } from './lockToken.js';
import type { QueueStore } from './queueStore.js';
import { encodeForDelivery, MESSAGE_STATE_DEFERRED, type Lock, type LockHolder } from './storedMessage.js';

/** `$management` operations of the Service Bus AMQP protocol that the broker implements. */
export const OPERATION_SCHEDULE = 'com.microsoft:schedule-message';
export const OPERATION_CANCEL_SCHEDULED = 'com.microsoft:cancel-scheduled-message';
export const OPERATION_RENEW_LOCK = 'com.microsoft:renew-lock';
export const OPERATION_PEEK = 'com.microsoft:peek-message';
export const OPERATION_UPDATE_DISPOSITION = 'com.microsoft:update-disposition';
export const OPERATION_RECEIVE_BY_SEQUENCE_NUMBER = 'com.microsoft:receive-by-sequence-number';

const STATUS_OK = 200;
const STATUS_NO_CONTENT = 204;

/** Element type codes for AMQP arrays in replies. */
const ARRAY_OF_LONG = 0x81;
const ARRAY_OF_TIMESTAMP = 0x83;

export interface ManagementRequest {
  readonly operation: string;
  readonly body: unknown;
}

export interface ManagementReply {
  readonly statusCode: number;
  readonly description: string;
  readonly condition?: string;
  readonly body?: unknown;
}

export interface ManagementContext {
  readonly store: QueueStore;
  /** The connection asking: locks taken through receive-by-sequence-number belong to it. */
  readonly holder: LockHolder;
  readonly maxMessageSizeBytes: number;
}

function argumentError(description: string): AmqpConditionError {
  return new AmqpConditionError(CONDITION_ARGUMENT_ERROR, description);
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
    throw argumentError(`${what} must be a map`);
  }
  return value as Record<string, unknown>;
}

function asArray(value: unknown, what: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw argumentError(`${what} must be an array`);
}

/** Longs arrive as numbers when they fit a double, otherwise as 8 big-endian bytes. */
function asSequenceNumber(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  throw argumentError(`${what} must be a long`);
}

function asLockTokenId(value: unknown): string {
  if (Buffer.isBuffer(value) && value.length === 16) return uuidFromBytes(value);
  if (typeof value === 'string') return value.toLowerCase();
  throw argumentError('lock-tokens must hold uuids');
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function longBytes(value: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64BE(BigInt(value), 0);
  return out;
}

function findLiveLock(context: ManagementContext, id: string): Lock {
  const lock = context.store.findLock(id);
  if (lock === undefined) throw lockLost(id);
  return lock;
}

const ok = (body?: unknown): ManagementReply => ({ statusCode: STATUS_OK, description: 'OK', body });

/**
 * Answers one `$management` request for a queue (or its dead-letter queue). Failures are thrown as
 * AmqpConditionError and turned into a status reply by the caller.
 */
export function handleManagementRequest(request: ManagementRequest, context: ManagementContext): ManagementReply {
  const body = request.body;
  switch (request.operation) {
    case OPERATION_SCHEDULE: {
      const entries = asArray(asRecord(body, 'schedule-message body').messages, 'messages');
      const encoded = entries.map((entry, i) => {
        const bytes = asRecord(entry, `messages[${i}]`).message;
        if (!Buffer.isBuffer(bytes)) throw argumentError(`messages[${i}].message must be binary`);
        if (bytes.length > context.maxMessageSizeBytes) {
          throw new AmqpConditionError(
            CONDITION_MESSAGE_SIZE_EXCEEDED,
            `The scheduled message at index ${i} has ${bytes.length} bytes; the maximum is ${context.maxMessageSizeBytes}.`,
          );
        }
        return EncodedMessage.parse(bytes);
      });
      const sequenceNumbers = encoded.map((message) => context.store.schedule(message));
      return ok({ 'sequence-numbers': rhea.types.wrap_array(sequenceNumbers.map(longBytes), ARRAY_OF_LONG, undefined) });
    }
    case OPERATION_CANCEL_SCHEDULED: {
      const values = asArray(asRecord(body, 'cancel-scheduled-message body')['sequence-numbers'], 'sequence-numbers');
      for (const value of values) context.store.cancelScheduled(asSequenceNumber(value, 'sequence-numbers'));
      return ok();
    }
    case OPERATION_RENEW_LOCK: {
      const ids = asArray(asRecord(body, 'renew-lock body')['lock-tokens'], 'lock-tokens').map(asLockTokenId);
      const expirations = ids.map((id) => context.store.renew(findLiveLock(context, id)));
      return ok({ expirations: rhea.types.wrap_array(expirations, ARRAY_OF_TIMESTAMP, undefined) });
    }
    case OPERATION_PEEK: {
      const map = asRecord(body, 'peek-message body');
      const from = asSequenceNumber(map['from-sequence-number'], 'from-sequence-number');
      const count = map['message-count'];
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
        throw argumentError('message-count must be a positive int');
      }
      const peeked = context.store.peek(from, count);
      if (peeked.length === 0) return { statusCode: STATUS_NO_CONTENT, description: 'No messages to peek' };
      const ttl = context.store.settings.defaultMessageTtlMs;
      return ok({
        messages: peeked.map(({ message, messageState }) => ({ message: encodeForDelivery(message, ttl, { messageState }) })),
      });
    }
    case OPERATION_UPDATE_DISPOSITION: {
      const map = asRecord(body, 'update-disposition body');
      const ids = asArray(map['lock-tokens'], 'lock-tokens').map(asLockTokenId);
      const status = map['disposition-status'];
      const changes = map['properties-to-modify'] === undefined ? {} : asRecord(map['properties-to-modify'], 'properties-to-modify');
      for (const id of ids) {
        const lock = findLiveLock(context, id);
        if (status === 'completed') context.store.complete(lock);
        else if (status === 'abandoned') context.store.abandon(lock, changes);
        else if (status === 'defered') context.store.defer(lock, changes);
        else if (status === 'suspended') {
          context.store.deadLetter(lock, optionalString(map['deadletter-reason']), optionalString(map['deadletter-description']), changes);
        } else {
          throw argumentError(`disposition-status ${JSON.stringify(status)} is not one of completed, abandoned, defered, suspended`);
        }
      }
      return ok();
    }
    case OPERATION_RECEIVE_BY_SEQUENCE_NUMBER: {
      const map = asRecord(body, 'receive-by-sequence-number body');
      const sequenceNumbers = asArray(map['sequence-numbers'], 'sequence-numbers').map((value) => asSequenceNumber(value, 'sequence-numbers'));
      const receiveAndDelete = map['receiver-settle-mode'] === 0;
      const received = context.store.receiveDeferred(sequenceNumbers, receiveAndDelete, context.holder);
      const ttl = context.store.settings.defaultMessageTtlMs;
      return ok({
        messages: received.map(({ message, lock }) => ({
          // The SDK reads this tag without the .NET byte-order swap it applies to link deliveries.
          'lock-token': rhea.types.wrap_uuid(lock === undefined ? Buffer.alloc(16) : uuidToBytes(lock.token.id)),
          message: encodeForDelivery(message, ttl, { lockedUntil: lock?.expiresAt, messageState: MESSAGE_STATE_DEFERRED }),
        })),
      });
    }
    default:
      throw new AmqpConditionError(CONDITION_NOT_IMPLEMENTED, `The operation '${request.operation}' is not supported by the local Service Bus broker.`);
  }
}

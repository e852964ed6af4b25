import type { EventContext, Receiver } from 'rhea';
import { AmqpConditionError, CONDITION_MESSAGE_SIZE_EXCEEDED, describeError } from './amqpConditionError.js';
import { BATCH_MESSAGE_FORMAT, unpackBatchEnvelope } from './batchEnvelope.js';
import { EncodedMessage } from './encodedMessage.js';
import type { QueueStore } from './queueStore.js';
import { RAW_MESSAGE_FORMAT } from './rheaInternals.js';

const CONDITION_DECODE_ERROR = 'amqp:decode-error';

/**
 * The broker's end of a client's send link to a queue. Each transfer is one message (format 0, handed
 * over raw, see RAW_MESSAGE_FORMAT) or a batch envelope; it is settled `accepted` once stored, or
 * `rejected` with the condition the SDK turns into its error code.
 */
export class ProducerLink {
  private stored = 0;
  private duplicates = 0;

  constructor(
    private readonly receiver: Receiver,
    private readonly store: QueueStore,
    private readonly maxMessageSizeBytes: number,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.receiver.on('message', (context: EventContext) => this.onTransfer(context));
    this.receiver.on('receiver_close', () => this.logTotals());
    this.receiver.on('receiver_error', () => this.logTotals());
  }

  private onTransfer(context: EventContext): void {
    const delivery = context.delivery;
    if (delivery === undefined) return;
    const payload: unknown = context.message;
    try {
      if (!Buffer.isBuffer(payload)) throw new AmqpConditionError(CONDITION_DECODE_ERROR, 'the transfer carried no message bytes');
      if (payload.length > this.maxMessageSizeBytes) {
        throw new AmqpConditionError(
          CONDITION_MESSAGE_SIZE_EXCEEDED,
          `The received message (delivery-id:${delivery.id}, size:${payload.length} bytes) exceeds the limit (${this.maxMessageSizeBytes} bytes) currently allowed on the link.`,
        );
      }
      const encoded = this.decode(payload, delivery.format);
      for (const message of encoded) {
        if (this.store.send(message) === 'stored') this.stored++;
        else this.duplicates++;
      }
      delivery.accept();
    } catch (error) {
      const amqp =
        error instanceof AmqpConditionError ? error : new AmqpConditionError(CONDITION_DECODE_ERROR, `could not decode the message: ${describeError(error)}`);
      this.log(`${this.store.name}: rejected a transfer on link ${this.receiver.name}: ${amqp.condition}`);
      delivery.reject(amqp.toAmqp());
    }
  }

  private decode(payload: Buffer, format: number): EncodedMessage[] {
    if (format === RAW_MESSAGE_FORMAT) return [EncodedMessage.parse(payload)];
    if (format === BATCH_MESSAGE_FORMAT) return unpackBatchEnvelope(payload).map((bytes) => EncodedMessage.parse(bytes));
    throw new AmqpConditionError(CONDITION_DECODE_ERROR, `unsupported message format 0x${format.toString(16)}`);
  }

  private logTotals(): void {
    this.log(`${this.store.name}: sender link ${this.receiver.name} closed after ${this.stored} message(s) stored, ${this.duplicates} duplicate(s) dropped`);
  }
}

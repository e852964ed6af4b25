import { SECTION_DATA } from './amqpEncoding.js';
import { amqpReader } from './rheaInternals.js';

/** Message format of a Service Bus batch: one transfer whose data sections are encoded messages. */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/**
 * Splits a batch envelope into the encoded messages it carries. The envelope's own header, annotations
 * and properties only describe the batch (the SDK copies them from the first message) and are ignored.
 */
export function unpackBatchEnvelope(envelope: Buffer): Buffer[] {
  const reader = amqpReader(envelope);
  const messages: Buffer[] = [];
  while (reader.remaining() > 0) {
    const section = reader.read();
    const code = section.descriptor?.value;
    if (code !== SECTION_DATA && code !== 'amqp:data:binary') continue;
    if (!Buffer.isBuffer(section.value)) {
      throw new Error('a data section of the batch envelope does not hold binary data');
    }
    messages.push(section.value);
  }
  return messages;
}

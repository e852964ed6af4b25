import { randomUUID } from 'node:crypto';
import rhea from 'rhea';
import {
  encodeHeaderSection,
  encodeMapSection,
  encodeValue,
  readMapSectionEntries,
  SECTION_APPLICATION_PROPERTIES,
  SECTION_DELIVERY_ANNOTATIONS,
  SECTION_HEADER,
  SECTION_MESSAGE_ANNOTATIONS,
  SECTION_PROPERTIES,
  stringEntry,
  encodeListSection,
} from './amqpEncoding.js';
import { amqpReader, type TypedValue } from './rheaInternals.js';

/** Annotations the broker writes itself; a client's copy of them is dropped so the map has no duplicate keys. */
export const BROKER_ANNOTATIONS = new Set([
  'x-opt-enqueued-time',
  'x-opt-sequence-number',
  'x-opt-enqueue-sequence-number',
  'x-opt-locked-until',
  'x-opt-lock-token',
  'x-opt-deadletter-source',
  'x-opt-message-state',
]);

const SCHEDULED_ENQUEUE_TIME = 'x-opt-scheduled-enqueue-time';
const DEFAULT_PRIORITY = 4;
const SYMBOLIC_SECTION_CODES: Readonly<Record<string, number>> = {
  'amqp:header:list': SECTION_HEADER,
  'amqp:delivery-annotations:map': SECTION_DELIVERY_ANNOTATIONS,
  'amqp:message-annotations:map': SECTION_MESSAGE_ANNOTATIONS,
  'amqp:properties:list': SECTION_PROPERTIES,
  'amqp:application-properties:map': SECTION_APPLICATION_PROPERTIES,
};

function sectionCode(section: TypedValue): number {
  const descriptor = section.descriptor?.value;
  if (typeof descriptor === 'number') return descriptor;
  if (typeof descriptor === 'string') return SYMBOLIC_SECTION_CODES[descriptor] ?? Number.MAX_SAFE_INTEGER;
  throw new Error('a message section has no descriptor');
}

function listItem(section: TypedValue, index: number): unknown {
  const items = section.value;
  if (!Array.isArray(items)) return undefined;
  const item: unknown = items[index];
  if (typeof item === 'object' && item !== null && 'value' in item) return item.value;
  return undefined;
}

/** A stable map key for a message id of any AMQP message-id type (string, ulong, uuid, binary). */
function messageIdKey(value: unknown): string | undefined {
  if (typeof value === 'string') return `s:${value}`;
  if (typeof value === 'number') return `n:${value}`;
  if (Buffer.isBuffer(value)) return `b:${value.toString('hex')}`;
  return undefined;
}

/**
 * One AMQP message as a client encoded it. The bare message (properties, application properties,
 * body, footer) is kept as the original bytes and re-sent unchanged, so every type the sender chose
 * round-trips exactly; the header and message annotations are rebuilt on each delivery because the
 * broker owns delivery-count, sequence number, lock and enqueue time.
 */
export class EncodedMessage {
  private constructor(
    readonly durable: boolean,
    readonly priority: number,
    /** The header ttl the sender set, in milliseconds. */
    readonly ttlMs: number | undefined,
    /** Key for duplicate detection, undefined when the message has no message-id. */
    readonly messageIdKey: string | undefined,
    /** From the `x-opt-scheduled-enqueue-time` annotation (scheduleMessages sets it). */
    readonly scheduledEnqueueTimeMs: number | undefined,
    /** The sender's own annotations, each an encoded key+value pair. */
    private readonly annotationEntries: readonly Buffer[],
    /** Properties through footer, copied out of the transfer so it does not pin the socket buffer. */
    private readonly bare: Buffer,
    private readonly applicationPropertiesStart: number,
    private readonly applicationPropertiesEnd: number,
  ) {}

  static parse(bytes: Buffer): EncodedMessage {
    const reader = amqpReader(bytes);
    let durable = false;
    let priority = DEFAULT_PRIORITY;
    let ttlMs: number | undefined;
    let idKey: string | undefined;
    let scheduledMs: number | undefined;
    let annotations: Buffer[] = [];
    let bareStart = -1;
    let appStart = -1;
    let appEnd = -1;
    let propertiesItems: unknown[] | undefined;
    let propertiesEnd = -1;
    while (reader.remaining() > 0) {
      const start = reader.position;
      const section = reader.read();
      const code = sectionCode(section);
      if (code === SECTION_HEADER) {
        durable = listItem(section, 0) === true;
        const p = listItem(section, 1);
        if (typeof p === 'number') priority = p;
        const ttl = listItem(section, 2);
        if (typeof ttl === 'number') ttlMs = ttl;
      } else if (code === SECTION_MESSAGE_ANNOTATIONS) {
        annotations = [];
        for (const entry of readMapSectionEntries(bytes, start)) {
          if (typeof entry.key === 'string' && BROKER_ANNOTATIONS.has(entry.key)) continue;
          if (entry.key === SCHEDULED_ENQUEUE_TIME) {
            const value = readAnnotationValue(bytes, start, SCHEDULED_ENQUEUE_TIME);
            if (value instanceof Date) scheduledMs = value.getTime();
            else if (typeof value === 'number') scheduledMs = value;
          }
          annotations.push(Buffer.from(entry.bytes));
        }
      } else if (code >= SECTION_PROPERTIES) {
        if (bareStart < 0) bareStart = start;
        if (code === SECTION_PROPERTIES) {
          idKey = messageIdKey(listItem(section, 0));
          propertiesItems = Array.isArray(section.value) ? [...(section.value as unknown[])] : [];
          propertiesEnd = reader.position;
        }
        if (code === SECTION_APPLICATION_PROPERTIES) {
          appStart = start;
          appEnd = reader.position;
        }
      }
      // Delivery annotations are hop-by-hop: they are not stored.
    }
    let bare = bareStart < 0 ? Buffer.alloc(0) : Buffer.from(bytes.subarray(bareStart));
    let appOffset = appStart < 0 ? -1 : appStart - bareStart;
    let appEndOffset = appEnd < 0 ? -1 : appEnd - bareStart;
    if (idKey === undefined) {
      // Service Bus gives every message an id; the SDK's lock renewer fails on messages without one.
      const id = randomUUID().replace(/-/g, '');
      idKey = messageIdKey(id);
      const items = propertiesItems ?? [];
      items[0] = rhea.types.wrap_string(id);
      const section = encodeListSection(SECTION_PROPERTIES, items);
      const rest = propertiesEnd < 0 ? bare : bare.subarray(propertiesEnd - bareStart);
      const shift = section.length - (bare.length - rest.length);
      bare = Buffer.concat([section, rest]);
      if (appOffset >= 0) {
        appOffset += shift;
        appEndOffset += shift;
      }
    }
    return new EncodedMessage(durable, priority, ttlMs, idKey, scheduledMs, annotations, bare, appOffset, appEndOffset);
  }

  /** The full message as the broker delivers it. */
  encode(deliveryCount: number, ttlMs: number | undefined, brokerAnnotations: readonly Buffer[]): Buffer {
    const header = encodeHeaderSection({ durable: this.durable, priority: this.priority, ttlMs, deliveryCount });
    const annotations = encodeMapSection(SECTION_MESSAGE_ANNOTATIONS, [...this.annotationEntries, ...brokerAnnotations]);
    return Buffer.concat([header, annotations, this.bare]);
  }

  /**
   * A copy with application properties set (dead-letter reason, abandon's propertiesToModify). Entries
   * not named in `changes` keep their original bytes.
   */
  withApplicationProperties(changes: Readonly<Record<string, unknown>>): EncodedMessage {
    const keys = Object.keys(changes);
    if (keys.length === 0) return this;
    const kept: Buffer[] = [];
    let before: Buffer;
    let after: Buffer;
    if (this.applicationPropertiesStart >= 0) {
      for (const entry of readMapSectionEntries(this.bare, this.applicationPropertiesStart)) {
        if (typeof entry.key === 'string' && Object.hasOwn(changes, entry.key)) continue;
        kept.push(entry.bytes);
      }
      before = this.bare.subarray(0, this.applicationPropertiesStart);
      after = this.bare.subarray(this.applicationPropertiesEnd);
    } else {
      // No application properties yet: the section goes right after the properties section, if any.
      const split = propertiesSectionEnd(this.bare);
      before = this.bare.subarray(0, split);
      after = this.bare.subarray(split);
    }
    for (const key of keys) {
      const value = changes[key];
      if (value === undefined) continue;
      kept.push(stringEntry(key, encodeValue(value)));
    }
    const section = encodeMapSection(SECTION_APPLICATION_PROPERTIES, kept);
    return new EncodedMessage(
      this.durable,
      this.priority,
      this.ttlMs,
      this.messageIdKey,
      this.scheduledEnqueueTimeMs,
      this.annotationEntries,
      Buffer.concat([before, section, after]),
      before.length,
      before.length + section.length,
    );
  }
}

function readAnnotationValue(bytes: Buffer, sectionStart: number, key: string): unknown {
  const reader = amqpReader(bytes);
  reader.position = sectionStart;
  const section = reader.read();
  const items = section.value;
  if (!Array.isArray(items)) return undefined;
  for (let i = 0; i + 1 < items.length; i += 2) {
    const k: unknown = items[i];
    const v: unknown = items[i + 1];
    if (typeof k === 'object' && k !== null && 'value' in k && k.value === key) {
      return typeof v === 'object' && v !== null && 'value' in v ? v.value : undefined;
    }
  }
  return undefined;
}

function propertiesSectionEnd(bare: Buffer): number {
  if (bare.length === 0) return 0;
  const reader = amqpReader(bare);
  const section = reader.read();
  return sectionCode(section) === SECTION_PROPERTIES ? reader.position : 0;
}

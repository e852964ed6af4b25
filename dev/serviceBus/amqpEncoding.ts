import rhea from 'rhea';
import { amqpReader, amqpWriter } from './rheaInternals.js';

/**
 * Byte-level AMQP 1.0 encoders for the few values the broker writes into every delivery (header,
 * annotations). Written by hand rather than through rhea's generic `wrap` because they run once per
 * delivered message and because rhea picks number types by value (a priority would become a uint).
 */

const NULL = 0x40;
const TRUE = 0x41;
const FALSE = 0x42;
const UBYTE = 0x50;
const UINT = 0x70;
const LONG = 0x81;
const TIMESTAMP = 0x83;
const STR8 = 0xa1;
const STR32 = 0xb1;
const SYM8 = 0xa3;
const SYM32 = 0xb3;
const LIST8 = 0xc0;
const LIST32 = 0xd0;
const MAP8 = 0xc1;
const MAP32 = 0xd1;
const DESCRIBED = 0x00;
const SMALL_ULONG = 0x53;
const MAX_UINT = 0xffff_ffff;

export const SECTION_HEADER = 0x70;
export const SECTION_DELIVERY_ANNOTATIONS = 0x71;
export const SECTION_MESSAGE_ANNOTATIONS = 0x72;
export const SECTION_PROPERTIES = 0x73;
export const SECTION_APPLICATION_PROPERTIES = 0x74;
export const SECTION_DATA = 0x75;

export function encodeBoolean(value: boolean): Buffer {
  return Buffer.of(value ? TRUE : FALSE);
}

export function encodeUint(value: number): Buffer {
  const out = Buffer.allocUnsafe(5);
  out[0] = UINT;
  out.writeUInt32BE(value >>> 0, 1);
  return out;
}

export function encodeLong(value: number): Buffer {
  const out = Buffer.allocUnsafe(9);
  out[0] = LONG;
  out.writeBigInt64BE(BigInt(Math.trunc(value)), 1);
  return out;
}

export function encodeTimestamp(epochMs: number): Buffer {
  const out = Buffer.allocUnsafe(9);
  out[0] = TIMESTAMP;
  out.writeBigInt64BE(BigInt(Math.trunc(epochMs)), 1);
  return out;
}

function encodeVariable(code8: number, code32: number, text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= 0xff) {
    return Buffer.concat([Buffer.of(code8, bytes.length), bytes]);
  }
  const head = Buffer.allocUnsafe(5);
  head[0] = code32;
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

export function encodeString(text: string): Buffer {
  return encodeVariable(STR8, STR32, text);
}

export function encodeSymbol(text: string): Buffer {
  return encodeVariable(SYM8, SYM32, text);
}

/** Any JS value (or rhea Typed value) encoded the way rhea would; for values from clients, off the hot path. */
export function encodeValue(value: unknown): Buffer {
  const writer = amqpWriter();
  // rhea's wrap returns Typed values (decoded from a client) as they are, so they keep their AMQP type.
  writer.write(rhea.types.wrap(value));
  return Buffer.from(writer.toBuffer());
}

export interface HeaderFields {
  readonly durable: boolean;
  readonly priority: number;
  /** Milliseconds, or undefined for no ttl field (the client then treats the message as never expiring). */
  readonly ttlMs: number | undefined;
  readonly deliveryCount: number;
}

/** The `header` section: durable, priority, ttl, first-acquirer, delivery-count. */
export function encodeHeaderSection(fields: HeaderFields): Buffer {
  const ttl = fields.ttlMs === undefined || fields.ttlMs > MAX_UINT ? Buffer.of(NULL) : encodeUint(fields.ttlMs);
  const body = Buffer.concat([
    encodeBoolean(fields.durable),
    Buffer.of(UBYTE, fields.priority & 0xff),
    ttl,
    encodeBoolean(fields.deliveryCount === 0),
    encodeUint(fields.deliveryCount),
  ]);
  // list8: size counts the count byte plus the items.
  return Buffer.concat([Buffer.of(DESCRIBED, SMALL_ULONG, SECTION_HEADER, LIST8, body.length + 1, 5), body]);
}

/** A described map section built from already encoded key+value pairs. */
export function encodeMapSection(code: number, entries: readonly Buffer[]): Buffer {
  let size = 4;
  for (const entry of entries) size += entry.length;
  const head = Buffer.allocUnsafe(12);
  head[0] = DESCRIBED;
  head[1] = SMALL_ULONG;
  head[2] = code;
  head[3] = MAP32;
  head.writeUInt32BE(size, 4);
  // count is the number of keys plus values; each entry holds one of each.
  head.writeUInt32BE(entries.length * 2, 8);
  return Buffer.concat([head, ...entries]);
}

/** A described list section (e.g. properties) from values rhea decoded or wrapped, each keeping its AMQP type. */
export function encodeListSection(code: number, items: readonly unknown[]): Buffer {
  const encoded = items.map((item) => encodeValue(item === undefined ? null : item));
  let size = 4;
  for (const item of encoded) size += item.length;
  const head = Buffer.allocUnsafe(12);
  head[0] = DESCRIBED;
  head[1] = SMALL_ULONG;
  head[2] = code;
  head[3] = LIST32;
  head.writeUInt32BE(size, 4);
  head.writeUInt32BE(encoded.length, 8);
  return Buffer.concat([head, ...encoded]);
}

export interface MapEntry {
  readonly key: unknown;
  /** The key and value exactly as they were encoded. */
  readonly bytes: Buffer;
}

/**
 * Reads the entries of the described map section that starts at `offset`, keeping each entry's original
 * bytes so the broker can add or drop entries without re-encoding (and so re-typing) the others.
 */
export function readMapSectionEntries(buffer: Buffer, offset: number): MapEntry[] {
  const reader = amqpReader(buffer);
  reader.position = offset;
  if (buffer[reader.position] !== DESCRIBED) {
    throw new Error(`expected a described section at offset ${offset}`);
  }
  reader.position += 1;
  reader.read(); // the descriptor
  const code = buffer[reader.position];
  let count: number;
  if (code === MAP8) {
    count = buffer.readUInt8(reader.position + 2);
    reader.position += 3;
  } else if (code === MAP32) {
    count = buffer.readUInt32BE(reader.position + 5);
    reader.position += 9;
  } else if (code === NULL) {
    return [];
  } else {
    throw new Error(`expected a map in the section at offset ${offset}, got type code 0x${(code ?? 0).toString(16)}`);
  }
  const entries: MapEntry[] = [];
  for (let i = 0; i + 1 < count; i += 2) {
    const start = reader.position;
    const key = reader.read().value;
    reader.read();
    entries.push({ key, bytes: buffer.subarray(start, reader.position) });
  }
  return entries;
}

/** Encoded key+value pair with a symbol key (message annotations use symbol keys). */
export function symbolEntry(key: string, value: Buffer): Buffer {
  return Buffer.concat([encodeSymbol(key), value]);
}

/** Encoded key+value pair with a string key (application properties use string keys). */
export function stringEntry(key: string, value: Buffer): Buffer {
  return Buffer.concat([encodeString(key), value]);
}

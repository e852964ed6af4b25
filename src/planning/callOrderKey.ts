import type { CallOrder } from '../engagement/engagementSchema.js';
import type { AttributeValue } from '../contacts/plannedContact.js';

const ZEROS = '0000000000000000';

/** Fixed-width (16) hex of a non-negative integer, so string order equals numeric order. */
function hex(n: number): string {
  const digits = Math.max(0, Math.floor(n)).toString(16);
  return digits.length >= ZEROS.length ? digits : ZEROS.slice(digits.length) + digits;
}

/**
 * Maps a float to a fixed-width string whose lexical order is the numeric order (IEEE-754 bits with
 * the sign handled), so custom priorities such as -2.5, 0 and 1e9 sort correctly as Table Storage row keys.
 */
const view = new DataView(new ArrayBuffer(8));

export function sortableNumber(value: number, descending: boolean): string {
  view.setFloat64(0, value === 0 ? 0 : value); // -0 and 0 are the same priority
  let hi = view.getUint32(0);
  let lo = view.getUint32(4);
  if (hi & 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else {
    hi = (hi | 0x80000000) >>> 0;
  }
  if (descending) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

export interface OrderInputs {
  /** When the trigger was received (epoch ms). */
  readonly receivedAt: number;
  /** Position of the contact in its trigger. */
  readonly sequence: number;
  /** End of the contact's first calling window (epoch ms). */
  readonly firstWindowEnd: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

const FIFO_MAX = Number.MAX_SAFE_INTEGER;

/**
 * The key pending deliveries are sorted by (ascending = dialled first):
 * - fifo: arrival time, then position in the trigger;
 * - lifo: the reverse of fifo;
 * - earliest-scheduled: the record nearest the END of its calling window first (D365's definition);
 * - custom-priority: the attribute's number asc/desc; a missing or non-numeric value sorts after every
 *   ranked contact, in FIFO order among themselves.
 */
let lastReceivedAt = Number.NaN;
let lastReceivedHex = '';
/** `p0` and the sortable priority, per value and direction: segments share few distinct priorities. */
const PRIORITY_MEMO_ENTRIES = 4096;
const priorityPrefixes = { asc: new Map<number, string>(), desc: new Map<number, string>() };

export function callOrderKey(order: CallOrder, input: OrderInputs): string {
  // One planning run shares its arrival time: its hex is kept rather than rebuilt per contact.
  if (input.receivedAt !== lastReceivedAt) {
    lastReceivedHex = hex(input.receivedAt);
    lastReceivedAt = input.receivedAt;
  }
  const fifo = `${lastReceivedHex}${hex(input.sequence)}`;
  switch (order.kind) {
    case 'fifo':
      return `f${fifo}`;
    case 'lifo':
      return `l${hex(FIFO_MAX - input.receivedAt)}${hex(FIFO_MAX - input.sequence)}`;
    case 'earliest-scheduled':
      return `e${hex(input.firstWindowEnd)}${fifo}`;
    case 'custom-priority': {
      const raw = input.attributes[order.attribute];
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      if (!Number.isFinite(value)) return `p1${fifo}`;
      const memo = priorityPrefixes[order.direction];
      let prefix = memo.get(value); // -0 and 0 share an entry, as they share a key
      if (prefix === undefined) {
        if (memo.size >= PRIORITY_MEMO_ENTRIES) memo.clear();
        prefix = `p0${sortableNumber(value, order.direction === 'desc')}`;
        memo.set(value, prefix);
      }
      return prefix + fifo;
    }
  }
}

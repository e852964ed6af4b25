/**
 * The call-order key as it was before the planning speed work, kept verbatim for the reference planner
 * (referencePlanDeliveries.ts) so the oracle does not follow changes to src/planning/callOrderKey.ts.
 */
import type { CallOrder } from '../../src/engagement/engagementSchema.js';
import type { AttributeValue } from '../../src/contacts/plannedContact.js';

const WIDTH = 16;

/** Fixed-width hex of a non-negative integer, so string order equals numeric order. */
function hex(n: number): string {
  return Math.max(0, Math.floor(n)).toString(16).padStart(WIDTH, '0');
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
      return `p0${sortableNumber(value, order.direction === 'desc')}${fifo}`;
    }
  }
}

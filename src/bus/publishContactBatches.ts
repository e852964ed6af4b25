import type { ServiceBusMessage, ServiceBusSender } from '@azure/service-bus';
import type { PlannedContact } from '../contacts/plannedContact.js';
import type { EngagementConfig } from '../engagement/engagementSchema.js';
import { PRIORITY_RANK } from '../engagement/engagementSchema.js';
import { SystemError } from '../errors.js';
import { budgetSignal } from '../httpApi/requestBudget.js';
import { CONTACT_BATCH_SCHEMA, toBatchMessage, type ContactBatch } from './contactBatchMessage.js';

/** Room kept for the AMQP envelope, properties and annotations around a message body. */
const ENVELOPE_BYTES = 4 * 1024;
/** Batches whose earliest window starts within this are sent now rather than scheduled. */
const SCHEDULE_THRESHOLD_MS = 1_000;

export interface BatchPlanInput {
  readonly engagement: EngagementConfig;
  readonly triggerId: string;
  /** Accepted contacts with their position in the trigger (positions fix batch membership). */
  readonly planned: readonly { readonly index: number; readonly contact: PlannedContact }[];
  readonly maxContacts: number;
  readonly maxBodyBytes: number;
  readonly now: number;
}

export interface OutgoingBatch {
  readonly batch: ContactBatch;
  /** When the batch should become visible: its earliest window start, when that is in the future. */
  readonly scheduledAt: Date | undefined;
}

/**
 * Cuts accepted contacts into contact-batch messages. Membership depends only on each contact's
 * position in the trigger (chunk = position / maxContacts), never on `now`, so a retried trigger
 * rebuilds the same batches under the same message ids; a chunk too large for one message is split
 * into parts by size.
 */
export function buildContactBatches(input: BatchPlanInput): OutgoingBatch[] {
  const chunks = new Map<number, PlannedContact[]>();
  for (const { index, contact } of input.planned) {
    const chunk = Math.floor(index / input.maxContacts);
    const list = chunks.get(chunk);
    if (list === undefined) chunks.set(chunk, [contact]);
    else list.push(contact);
  }
  const createdAt = new Date(input.now).toISOString();
  const out: OutgoingBatch[] = [];
  for (const [chunk, contacts] of [...chunks.entries()].sort((a, b) => a[0] - b[0])) {
    splitBySize(contacts, input.maxBodyBytes).forEach((part, partIndex) => {
      const batch: ContactBatch = {
        schema: CONTACT_BATCH_SCHEMA,
        engagementId: input.engagement.id,
        triggerId: input.triggerId,
        chunk,
        part: partIndex,
        dialMode: input.engagement.dialMode.mode,
        priority: PRIORITY_RANK[input.engagement.priority],
        createdAt,
        contacts: part,
      };
      const earliest = Math.min(...part.map((c) => Date.parse(c.windows[0]?.start ?? createdAt)));
      out.push({ batch, scheduledAt: earliest - input.now > SCHEDULE_THRESHOLD_MS ? new Date(earliest) : undefined });
    });
  }
  return out;
}

function splitBySize(contacts: readonly PlannedContact[], maxBodyBytes: number): PlannedContact[][] {
  const parts: PlannedContact[][] = [];
  let current: PlannedContact[] = [];
  let size = 512; // the batch's own fields
  for (const contact of contacts) {
    const bytes = Buffer.byteLength(JSON.stringify(contact)) + 1;
    if (bytes + 512 > maxBodyBytes) {
      throw new RangeError(`contact ${contact.contactId} alone is ${bytes} bytes, over the ${maxBodyBytes}-byte message budget`);
    }
    if (current.length > 0 && size + bytes > maxBodyBytes) {
      parts.push(current);
      current = [];
      size = 512;
    }
    current.push(contact);
    size += bytes;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

export interface PublishResult {
  readonly sent: number;
  readonly scheduled: number;
}

/** The body budget for a sender: the link's max message size minus the envelope. */
export async function maxBodyBytesFor(sender: ServiceBusSender): Promise<number> {
  const probe = await asDependencyFailure(() => sender.createMessageBatch({ abortSignal: budgetSignal() }));
  return probe.maxSizeInBytes - ENVELOPE_BYTES;
}

/**
 * Runs one Service Bus call, surfacing its failure as a `DependencyFailed` system error: retryable
 * unless the SDK says a retry cannot help (an entity that does not exist, a refused credential).
 * rhea's "Failed to connect" arrives as a bare Error, hence no reliance on the SDK's error class alone.
 * The SDK's message stays in `cause`: it can name the namespace.
 */
async function asDependencyFailure<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RangeError || error instanceof SystemError) throw error;
    const named = (error as { name?: unknown } | null)?.name;
    const sdkError = named === 'ServiceBusError' || named === 'MessagingError';
    const retryable = !sdkError || (error as { retryable?: unknown }).retryable === true;
    throw new SystemError('DependencyFailed', 'Service Bus did not take the contact batches', retryable, { cause: error });
  }
}

/**
 * Publishes batches: due ones in size-aware `createMessageBatch` sends, future ones with
 * `scheduleMessages` grouped by time. Message ids are deterministic, so a retry after a partial
 * failure re-sends everything and duplicate detection drops what already arrived. `onSent` hears of
 * each group the broker acknowledged, so a caller whose publish fails part-way knows which batches
 * are out (their contacts stay reserved for the retry) and which are not. Inside an HTTP request the
 * calls share the request's budget (requestBudget.ts).
 */
export async function publishContactBatches(
  sender: ServiceBusSender,
  batches: readonly OutgoingBatch[],
  onSent: (sent: readonly ContactBatch[]) => void = () => undefined,
): Promise<PublishResult> {
  const options = { abortSignal: budgetSignal() };
  const due: { message: ServiceBusMessage; batch: ContactBatch }[] = [];
  const later = new Map<number, { message: ServiceBusMessage; batch: ContactBatch }[]>();
  for (const { batch, scheduledAt } of batches) {
    const item = { message: toBatchMessage(batch, scheduledAt), batch };
    if (scheduledAt === undefined) {
      due.push(item);
    } else {
      const list = later.get(scheduledAt.getTime());
      if (list === undefined) later.set(scheduledAt.getTime(), [item]);
      else list.push(item);
    }
  }
  let sent = 0;
  let batch = await asDependencyFailure(() => sender.createMessageBatch(options));
  let inBatch: ContactBatch[] = [];
  const flush = async (): Promise<void> => {
    const full = batch;
    await asDependencyFailure(() => sender.sendMessages(full, options));
    sent += batch.count;
    onSent(inBatch);
    inBatch = [];
  };
  for (const item of due) {
    if (batch.tryAddMessage(item.message)) {
      inBatch.push(item.batch);
      continue;
    }
    if (batch.count === 0) throw new RangeError(`message ${String(item.message.messageId)} does not fit an empty batch`);
    await flush();
    batch = await asDependencyFailure(() => sender.createMessageBatch(options));
    if (!batch.tryAddMessage(item.message)) throw new RangeError(`message ${String(item.message.messageId)} does not fit an empty batch`);
    inBatch.push(item.batch);
  }
  if (batch.count > 0) await flush();
  let scheduled = 0;
  for (const [at, items] of [...later.entries()].sort((a, b) => a[0] - b[0])) {
    await asDependencyFailure(() =>
      sender.scheduleMessages(
        items.map((i) => i.message),
        new Date(at),
        options,
      ),
    );
    scheduled += items.length;
    onSent(items.map((i) => i.batch));
  }
  return { sent, scheduled };
}

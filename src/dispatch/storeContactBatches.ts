import type { InvocationContext } from '@azure/functions';
import { contactBatchSchema, CONTACT_BATCH_SCHEMA, MAX_STORED_CONTACT_CHARS, type ContactBatch } from '../bus/contactBatchMessage.js';
import { isWellFormed } from '../contacts/wellFormed.js';
import { ensureError, formatPath } from '../errors.js';
import type { PendingContactStore } from '../store/contacts/pendingContactStore.js';
import { tableErrorStatus } from '../store/tables.js';
import type { DeliveryStore } from '../store/dispatch/deliveryStore.js';
import type { RejectedMessageStore } from '../store/dispatch/rejectedMessageStore.js';

export interface ContactBatchesDeps {
  readonly deliveries: DeliveryStore;
  readonly rejected: RejectedMessageStore;
  readonly knownEngagement: (engagementId: string) => boolean;
  readonly queueName: string;
  /** Pending marks of a rejected message's contacts are released, so the contacts can be triggered again. */
  readonly pending?: Pick<PendingContactStore, 'clear'>;
  readonly clock?: () => number;
}

export interface BatchMetadata {
  readonly messageId: string;
  readonly enqueuedTimeUtc: string | undefined;
  readonly deliveryCount: number | undefined;
}

/** Dead-letter reasons for contact-batch messages, as they appear in RejectedMessages. */
export type ContactBatchRejection = 'UnsupportedSchema' | 'InvalidBody' | 'UnknownEngagement' | 'ContactTooLarge' | 'StorageRefused';

/**
 * The Service Bus trigger's work: validates each contact-batch message and stores its contacts as
 * queued deliveries, each message on its own. Storing is idempotent, so a redelivered message (lock
 * lost, host restarted) adds nothing. A message that can never succeed (malformed, or refused by
 * Table Storage as it is) is recorded in RejectedMessages with its reason, its contacts' pending marks
 * are released, and it is not retried; the other messages proceed. A transient storage failure is
 * thrown after the others were handled, so the host abandons the invocation and Service Bus delivers
 * again: the messages already stored are absorbed as duplicates.
 */
export async function storeContactBatches(
  deps: ContactBatchesDeps,
  bodies: readonly unknown[],
  metadata: readonly BatchMetadata[],
  context: InvocationContext,
): Promise<{ stored: number; duplicates: number; rejected: number }> {
  const now = deps.clock?.() ?? Date.now();
  let stored = 0;
  let duplicates = 0;
  let rejected = 0;
  let transient: Error | undefined;
  for (const [index, body] of bodies.entries()) {
    const meta = metadata[index] ?? { messageId: `unknown-${index}`, enqueuedTimeUtc: undefined, deliveryCount: undefined };
    const parsed = parseBody(body);
    let verdict = validate(deps, parsed);
    if (verdict.ok) {
      const { batch } = verdict;
      try {
        const created = await deps.deliveries.storeContacts(batch.engagementId, batch.triggerId, batch.contacts, now);
        stored += created;
        duplicates += batch.contacts.length - created;
        continue;
      } catch (error) {
        if (!isRefusedByStorage(error)) {
          transient ??= ensureError(error);
          continue;
        }
        verdict = { ok: false, reason: 'StorageRefused', description: `Table Storage refused the contacts (HTTP ${tableErrorStatus(error)})` };
      }
    }
    rejected++;
    await deps.rejected.record(
      {
        queue: deps.queueName,
        messageId: meta.messageId,
        reason: verdict.reason,
        description: verdict.description,
        enqueuedTimeUtc: meta.enqueuedTimeUtc,
        deliveryCount: meta.deliveryCount,
      },
      now,
    );
    const released = await releasePending(deps, parsed);
    context.warn(`contact batch ${meta.messageId} rejected: ${verdict.reason}: ${verdict.description} (${released} pending mark(s) released)`);
  }
  context.log(`contact batches: ${bodies.length} message(s), ${stored} deliveries stored, ${duplicates} already stored, ${rejected} message(s) rejected`);
  if (transient !== undefined) throw transient;
  return { stored, duplicates, rejected };
}

/** A 4xx other than a conflict or a stale etag: the request as it is will never be accepted. */
function isRefusedByStorage(error: unknown): boolean {
  const status = tableErrorStatus(error);
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 412 && status !== 429;
}

/** Releases the pending marks of the contacts a rejected message names, as far as it names them usably. */
async function releasePending(deps: ContactBatchesDeps, body: unknown): Promise<number> {
  if (deps.pending === undefined || typeof body !== 'object' || body === null) return 0;
  const { engagementId, contacts } = body as { engagementId?: unknown; contacts?: unknown };
  if (typeof engagementId !== 'string' || !isUsableKey(engagementId) || !Array.isArray(contacts)) return 0;
  let released = 0;
  for (const contact of contacts.slice(0, 10_000) as unknown[]) {
    const { contactId, deliveryId } = (contact ?? {}) as { contactId?: unknown; deliveryId?: unknown };
    // An id that could not be a stored key was never marked (marking it would have failed).
    if (typeof contactId !== 'string' || typeof deliveryId !== 'string' || !isUsableKey(contactId) || !isUsableKey(deliveryId)) continue;
    await deps.pending.clear(engagementId, contactId, deliveryId);
    released++;
  }
  return released;
}

function isUsableKey(value: string): boolean {
  return value.length > 0 && value.length <= 256 && isWellFormed(value);
}

/** Service Bus hands JSON bodies over decoded, but a body sent as bytes or text arrives as such. */
function parseBody(body: unknown): unknown {
  if (typeof body === 'string') return tryJson(body);
  if (body instanceof Uint8Array) return tryJson(Buffer.from(body).toString('utf8'));
  return body;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

type Verdict = { ok: true; batch: ContactBatch } | { ok: false; reason: ContactBatchRejection; description: string };

function validate(deps: ContactBatchesDeps, body: unknown): Verdict {
  const schema = (body as { schema?: unknown } | null)?.schema;
  if (schema !== CONTACT_BATCH_SCHEMA) {
    return { ok: false, reason: 'UnsupportedSchema', description: `expected schema "${CONTACT_BATCH_SCHEMA}", got ${JSON.stringify(schema ?? null)}` };
  }
  const parsed = contactBatchSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 10).map((i) => `${formatPath(i.path)}: ${i.message}`);
    return { ok: false, reason: 'InvalidBody', description: issues.join('; ') };
  }
  const tooLarge = parsed.data.contacts.findIndex((c) => JSON.stringify(c).length > MAX_STORED_CONTACT_CHARS);
  if (tooLarge >= 0) {
    return {
      ok: false,
      reason: 'ContactTooLarge',
      description: `contacts[${tooLarge}] takes more than the ${MAX_STORED_CONTACT_CHARS} characters one stored delivery can hold`,
    };
  }
  if (!deps.knownEngagement(parsed.data.engagementId)) {
    return { ok: false, reason: 'UnknownEngagement', description: `engagement "${parsed.data.engagementId}" is not in the engagement file` };
  }
  return { ok: true, batch: parsed.data };
}

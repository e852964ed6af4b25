import type { InvocationContext } from '@azure/functions';
import { contactBatchSchema, CONTACT_BATCH_SCHEMA, type ContactBatch } from '../bus/contactBatchMessage.js';
import { formatPath } from '../errors.js';
import type { DeliveryStore } from '../store/dispatch/deliveryStore.js';
import type { RejectedMessageStore } from '../store/dispatch/rejectedMessageStore.js';

export interface ContactBatchesDeps {
  readonly deliveries: DeliveryStore;
  readonly rejected: RejectedMessageStore;
  readonly knownEngagement: (engagementId: string) => boolean;
  readonly queueName: string;
  readonly clock?: () => number;
}

export interface BatchMetadata {
  readonly messageId: string;
  readonly enqueuedTimeUtc: string | undefined;
  readonly deliveryCount: number | undefined;
}

/** Dead-letter reasons for contact-batch messages, as they appear in RejectedMessages. */
export type ContactBatchRejection = 'UnsupportedSchema' | 'InvalidBody' | 'UnknownEngagement';

/**
 * The Service Bus trigger's work: validates each contact-batch message and stores its contacts as
 * queued deliveries. Storing is idempotent, so a redelivered message (lock lost, host restarted) adds
 * nothing. A malformed message is recorded with its reason and not retried; a storage failure throws,
 * so the host abandons the messages and Service Bus delivers them again.
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
  for (const [index, body] of bodies.entries()) {
    const meta = metadata[index] ?? { messageId: `unknown-${index}`, enqueuedTimeUtc: undefined, deliveryCount: undefined };
    const verdict = validate(deps, parseBody(body));
    if (!verdict.ok) {
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
      context.warn(`contact batch ${meta.messageId} rejected: ${verdict.reason}: ${verdict.description}`);
      continue;
    }
    const { batch } = verdict;
    const created = await deps.deliveries.storeContacts(batch.engagementId, batch.triggerId, batch.contacts, now);
    stored += created;
    duplicates += batch.contacts.length - created;
  }
  context.log(`contact batches: ${bodies.length} message(s), ${stored} deliveries stored, ${duplicates} already stored, ${rejected} message(s) rejected`);
  return { stored, duplicates, rejected };
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
  if (!deps.knownEngagement(parsed.data.engagementId)) {
    return { ok: false, reason: 'UnknownEngagement', description: `engagement "${parsed.data.engagementId}" is not in the engagement file` };
  }
  return { ok: true, batch: parsed.data };
}

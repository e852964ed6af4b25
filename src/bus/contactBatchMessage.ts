import type { ServiceBusMessage } from '@azure/service-bus';
import { z } from 'zod';
import { SAFE_ID_PATTERN } from '../contacts/callEvent.js';
import type { PlannedContact } from '../contacts/plannedContact.js';
import { DIAL_MODES, PHONE_TYPES } from '../engagement/engagementSchema.js';

/** Version of the contact-batch message body; a consumer dead-letters versions it does not know. */
export const CONTACT_BATCH_SCHEMA = 'contact-batch/v1';

/**
 * Characters a planned contact may take as JSON: a delivery keeps it in one Table Storage string
 * property (at most 32K characters), with room to spare for a callback's replaced windows.
 */
export const MAX_STORED_CONTACT_CHARS = 30_000;

const windowSchema = z.object({ start: z.iso.datetime(), end: z.iso.datetime() });

export const plannedContactSchema = z.object({
  contactId: z.string().min(1),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  email: z.string().optional(),
  locale: z.string().optional(),
  phones: z.array(z.object({ type: z.enum(PHONE_TYPES), e164: z.string().regex(/^\+[1-9]\d{6,14}$/), windows: z.array(windowSchema) })).min(1),
  timeZone: z.string().min(1),
  timezoneInferred: z.boolean(),
  windows: z.array(windowSchema).min(1),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  callOrderKey: z.string().min(1),
  priority: z.int().min(1),
  source: z.string().min(1),
  deliveryId: z.string().min(1).max(128).regex(SAFE_ID_PATTERN, 'expected letters, digits, ".", "_", ":" or "-"'),
  journey: z.object({ journeyId: z.string().min(1), attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])) }).optional(),
}) satisfies z.ZodType<PlannedContact>;

export const contactBatchSchema = z.object({
  schema: z.literal(CONTACT_BATCH_SCHEMA),
  engagementId: z.string().min(1),
  triggerId: z.string().min(1),
  /** Position of the batch in its trigger: contacts `[chunk * size, (chunk + 1) * size)`, split in `part`s by size. */
  chunk: z.int().min(0),
  part: z.int().min(0),
  dialMode: z.enum(DIAL_MODES),
  priority: z.int().min(1),
  createdAt: z.iso.datetime(),
  contacts: z.array(plannedContactSchema).min(1),
});
export type ContactBatch = Omit<z.infer<typeof contactBatchSchema>, 'contacts'> & { readonly contacts: readonly PlannedContact[] };

/** Application properties every contact-batch message carries, for routing and monitoring without the body. */
export interface ContactBatchProperties {
  readonly schema: string;
  readonly engagementId: string;
  readonly triggerId: string;
  readonly priority: number;
  readonly dialMode: string;
  readonly contactCount: number;
}

/** Deterministic message id: a retried trigger produces the same ids, absorbed by duplicate detection. */
export function batchMessageId(batch: Pick<ContactBatch, 'triggerId' | 'chunk' | 'part'>): string {
  return `${batch.triggerId}-${batch.chunk}-${batch.part}`;
}

export function toBatchMessage(batch: ContactBatch, scheduledAt?: Date): ServiceBusMessage {
  const applicationProperties: ContactBatchProperties = {
    schema: batch.schema,
    engagementId: batch.engagementId,
    triggerId: batch.triggerId,
    priority: batch.priority,
    dialMode: batch.dialMode,
    contactCount: batch.contacts.length,
  };
  return {
    messageId: batchMessageId(batch),
    body: batch,
    contentType: 'application/json',
    subject: CONTACT_BATCH_SCHEMA,
    applicationProperties: { ...applicationProperties },
    ...(scheduledAt === undefined ? {} : { scheduledEnqueueTimeUtc: scheduledAt }),
  };
}

import { z } from 'zod';
import { endWithoutCall, settleEndedDelivery, type EndedDeliveryDeps } from '../dispatch/settleEndedDelivery.js';
import type { EngagementConfig } from '../engagement/engagementSchema.js';
import type { DeliveryRecord, DeliveryStore } from '../store/dispatch/deliveryStore.js';

/** Queued deliveries looked at per request; the answer says when more are left. */
export const CANCEL_SCAN_LIMIT = 5_000;

/**
 * Which queued deliveries to cancel: `{"all": true}`, or any of the filters (a delivery matches when it
 * matches every filter given). Calls already handed to the back-end are not touched: they finish.
 */
export const cancelFilterSchema = z
  .strictObject({
    all: z.literal(true).optional(),
    deliveryIds: z.array(z.string().min(1)).min(1).max(1_000).optional(),
    contactIds: z.array(z.string().min(1)).min(1).max(1_000).optional(),
    triggerId: z.string().min(1).optional(),
  })
  .refine((f) => f.all === true || f.deliveryIds !== undefined || f.contactIds !== undefined || f.triggerId !== undefined, {
    message: 'say which deliveries: "all": true, or deliveryIds, contactIds or triggerId',
    path: ['all'],
  })
  .refine((f) => !(f.all === true && (f.deliveryIds !== undefined || f.contactIds !== undefined || f.triggerId !== undefined)), {
    message: '"all" cannot be combined with filters',
    path: ['all'],
  });
export type CancelFilter = z.infer<typeof cancelFilterSchema>;

export interface CancelDeps extends EndedDeliveryDeps {
  readonly deliveries: Pick<DeliveryStore, 'queued' | 'get' | 'cancelQueued'>;
}

export interface CancelReport {
  readonly scanned: number;
  readonly matched: number;
  readonly cancelled: number;
  /** True when the scan stopped at its limit: call again for the rest. */
  readonly more: boolean;
}

/**
 * Cancels an engagement's queued deliveries through the delivery store's own cancel path (record and
 * queue row in one transaction, guarded by the record's etag: a delivery claimed meanwhile is left to
 * its call), then settles each like any ended delivery: its journey outcome (`Cancelled`) is queued
 * and its pending mark cleared so the contact can be planned again.
 */
export async function cancelQueuedDeliveries(deps: CancelDeps, engagement: EngagementConfig, filter: CancelFilter, now: number): Promise<CancelReport> {
  const engagementId = engagement.id;
  const rows = await deps.deliveries.queued(engagementId, CANCEL_SCAN_LIMIT);
  const deliveryIds = filter.deliveryIds === undefined ? undefined : new Set(filter.deliveryIds);
  const contactIds = filter.contactIds === undefined ? undefined : new Set(filter.contactIds);
  const needsRecord = contactIds !== undefined || filter.triggerId !== undefined;
  let matched = 0;
  let cancelled = 0;
  for (const row of rows) {
    if (deliveryIds !== undefined && !deliveryIds.has(row.deliveryId)) continue;
    if (needsRecord) {
      const record = await deps.deliveries.get(engagementId, row.deliveryId);
      if (record === undefined || !matches(record, contactIds, filter.triggerId)) continue;
    }
    matched++;
    const record = await deps.deliveries.cancelQueued(engagementId, row, now);
    if (record === undefined) continue;
    await settleEndedDelivery(deps, engagement, record, endWithoutCall(record, 'Cancelled', now));
    cancelled++;
  }
  return { scanned: rows.length, matched, cancelled, more: rows.length >= CANCEL_SCAN_LIMIT };
}

function matches(record: DeliveryRecord, contactIds: ReadonlySet<string> | undefined, triggerId: string | undefined): boolean {
  if (contactIds !== undefined && !contactIds.has(record.contact.contactId)) return false;
  return triggerId === undefined || record.triggerId === triggerId;
}

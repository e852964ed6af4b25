import { z } from 'zod';
import type { CallEvent } from '../../contacts/callEvent.js';
import { SystemError } from '../../errors.js';
import type { InFlightDelivery } from '../dialerPort.js';
import type { ActionOutcome, DataverseClient } from './dataverseClient.js';
import type { DeliveryRef, DeliveryRefStore } from './deliveryRefStore.js';
import { dynamicsRequestId } from './dynamicsRequestId.js';
import { type ObservedDelivery, toCallOutcome } from './toCallOutcome.js';

/** The elastic table D365 keeps one row per proactive delivery in (entity set name). */
export const DELIVERIES_ENTITY_SET = 'msdyn_proactive_deliveries';
export const GET_DELIVERY_TASKS_FUNCTION = 'CCaaS_GetDeliveryTasks';

/**
 * Where a delivery's keys sit in msdyn_proactive_deliveries. Microsoft does not document which column
 * holds the RequestId (unconfirmed, see docs/decisions.md): the tracking id is read as the single
 * request's RequestId and the batch id as the bulk request's; the contact id is the uniqueIdentifier sent.
 */
export const COLUMNS = {
  requestId: 'msdyn_tracking_id',
  batchId: 'msdyn_batch_id',
  contactId: 'msdyn_contact_id',
} as const;

const SELECT = [
  'msdyn_delivery_id',
  COLUMNS.requestId,
  COLUMNS.batchId,
  COLUMNS.contactId,
  'msdyn_status',
  'msdyn_result',
  'msdyn_result_date',
  'msdyn_sip_diagnostics',
  'msdyn_disposition_codes',
  'msdyn_seq_no',
].join(',');

export interface ReconcileOptions {
  /** Key values per `Microsoft.Dynamics.CRM.In` filter: 50 GUIDs keep a query URL near 2.5 KB, far under Dataverse's limits. */
  readonly idsPerQuery: number;
  /** Rows per page (`Prefer: odata.maxpagesize`); Dataverse serves at most 5,000. */
  readonly pageSize: number;
  /** CCaaS_GetDeliveryTasks calls per reconcile at most (one task per call): only where a row says too little. */
  readonly maxTaskReads: number;
  /** A delivery with a task id that has no row this long after hand-over is looked up by its task. */
  readonly missingRowGraceMs: number;
}

export const DEFAULT_RECONCILE_OPTIONS: ReconcileOptions = Object.freeze({
  idsPerQuery: 50,
  pageSize: 5_000,
  maxTaskReads: 50,
  missingRowGraceMs: 5 * 60_000,
});

const rowSchema = z.looseObject({
  [COLUMNS.requestId]: z.string().nullish(),
  [COLUMNS.batchId]: z.string().nullish(),
  [COLUMNS.contactId]: z.string().nullish(),
  msdyn_status: z.string().nullish(),
  msdyn_result: z.string().nullish(),
  msdyn_result_date: z.string().nullish(),
  msdyn_sip_diagnostics: z.string().nullish(),
  msdyn_disposition_codes: z.string().nullish(),
  msdyn_seq_no: z.union([z.number(), z.string()]).nullish(),
});
type DeliveryRow = z.infer<typeof rowSchema>;

const pageSchema = z.looseObject({ value: z.array(z.unknown()), '@odata.nextLink': z.string().optional() });

const taskSchema = z.looseObject({
  status: z.string().nullish(),
  lastAttemptedTime: z.string().nullish(),
  deliveries: z.array(z.looseObject({ id: z.string().nullish(), status: z.string().nullish(), result: z.string().nullish() })).nullish(),
  contactChainingStatus: z.looseObject({ lastDeliveryResult: z.string().nullish() }).nullish(),
});

interface Tracked {
  readonly delivery: InFlightDelivery;
  readonly ref: DeliveryRef | undefined;
}

/** What one reconcile pass cost, for logs and the bench. */
export interface ReconcileCounts {
  queries: number;
  pages: number;
  taskReads: number;
}

/**
 * Reads what Dynamics 365 says about deliveries in flight and returns an outcome per ended one.
 *
 * Single deliveries are found by their RequestId (fixed per (delivery, attempt)), bulk ones by their
 * bulk RequestId and contact id, through `$filter` queries of msdyn_proactive_deliveries (many keys
 * per query, every page followed). Where a row ended without a usable Result, or a delivery with a
 * task id has no row after a grace period, CCaaS_GetDeliveryTasks (one task per call) is asked.
 * An attempt the refs say was replaced by a later one is skipped: its row belongs to the later attempt.
 */
export async function reconcileDeliveries(
  client: DataverseClient,
  refs: DeliveryRefStore,
  inFlight: readonly InFlightDelivery[],
  now: number,
  options: ReconcileOptions = DEFAULT_RECONCILE_OPTIONS,
  counts: ReconcileCounts = { queries: 0, pages: 0, taskReads: 0 },
): Promise<CallEvent[]> {
  const tracked: Tracked[] = await Promise.all(inFlight.map(async (delivery) => ({ delivery, ref: await refs.get(delivery.deliveryId) })));
  const byRequestId = new Map<string, Tracked>();
  const byBatch = new Map<string, Map<string, Tracked>>();
  for (const t of tracked) {
    if (t.ref !== undefined && t.ref.attempt !== t.delivery.attempt) continue;
    const bulkId = t.ref?.backendRef.startsWith('bulk:') === true ? t.ref.backendRef.slice('bulk:'.length) : undefined;
    if (bulkId !== undefined) {
      if (t.ref?.contactId === undefined) continue;
      const members = byBatch.get(bulkId) ?? new Map<string, Tracked>();
      members.set(t.ref.contactId, t);
      byBatch.set(bulkId, members);
    } else {
      byRequestId.set(dynamicsRequestId(t.delivery.deliveryId, t.delivery.attempt), t);
    }
  }

  const rowsOf = new Map<Tracked, DeliveryRow[]>();
  const add = (t: Tracked | undefined, row: DeliveryRow) => {
    if (t === undefined) return;
    const list = rowsOf.get(t) ?? [];
    list.push(row);
    rowsOf.set(t, list);
  };
  for (const ids of chunks([...byRequestId.keys()], options.idsPerQuery)) {
    for (const row of await queryRows(client, inFilter(COLUMNS.requestId, ids), options, counts)) add(byRequestId.get(row[COLUMNS.requestId] ?? ''), row);
  }
  for (const ids of chunks([...byBatch.keys()], options.idsPerQuery)) {
    for (const row of await queryRows(client, inFilter(COLUMNS.batchId, ids), options, counts)) {
      add(byBatch.get(row[COLUMNS.batchId] ?? '')?.get(row[COLUMNS.contactId] ?? ''), row);
    }
  }

  const events: CallEvent[] = [];
  let taskReads = 0;
  for (const t of [...byRequestId.values(), ...[...byBatch.values()].flatMap((m) => [...m.values()])]) {
    const rows = rowsOf.get(t) ?? [];
    let outcome = rows.length === 0 ? undefined : toCallOutcome(observedOfRows(rows), now);
    if (outcome?.ended === false) continue;
    const taskId = t.ref?.deliveryTaskId;
    const worthTaskRead = outcome === undefined ? now - t.delivery.since >= options.missingRowGraceMs : outcome.vague;
    if (taskId !== undefined && worthTaskRead && taskReads < options.maxTaskReads) {
      taskReads++;
      counts.taskReads++;
      const fromTask = await readTask(client, taskId);
      if (fromTask !== undefined) {
        const taskOutcome = toCallOutcome(fromTask, now);
        if (!taskOutcome.ended) continue;
        if (outcome === undefined || !taskOutcome.vague) outcome = taskOutcome;
      }
    }
    if (outcome === undefined || !outcome.ended) continue;
    const { delivery } = t;
    events.push({
      engagementId: delivery.engagementId,
      deliveryId: delivery.deliveryId,
      attempt: delivery.attempt,
      result: outcome.result,
      at: outcome.at,
      ...(outcome.sipCode === undefined ? {} : { sipCode: outcome.sipCode }),
      ...(outcome.disposition === undefined ? {} : { disposition: outcome.disposition }),
    });
  }
  return events;
}

/**
 * One delivery may have several rows (D365's own redials of a task). While any is still open the
 * delivery is open; once all ended, the latest (by result date, then sequence number) speaks for it.
 */
function observedOfRows(rows: readonly DeliveryRow[]): ObservedDelivery {
  const observed = rows.map(observedOfRow);
  const open = observed.find((o) => toCallOutcome(o, 0).ended === false);
  if (open !== undefined) return open;
  const sorted = rows
    .map((row, i) => ({ row, o: observed[i] }))
    .sort(
      (a, b) =>
        (Date.parse(a.row.msdyn_result_date ?? '') || 0) - (Date.parse(b.row.msdyn_result_date ?? '') || 0) ||
        Number(a.row.msdyn_seq_no ?? 0) - Number(b.row.msdyn_seq_no ?? 0),
    );
  return (
    sorted[sorted.length - 1]?.o ??
    observed[0] ?? { status: undefined, result: undefined, resultDate: undefined, sipDiagnostics: undefined, dispositionCodes: undefined }
  );
}

function observedOfRow(row: DeliveryRow): ObservedDelivery {
  return {
    status: row.msdyn_status ?? undefined,
    result: row.msdyn_result ?? undefined,
    resultDate: row.msdyn_result_date ?? undefined,
    sipDiagnostics: row.msdyn_sip_diagnostics ?? undefined,
    dispositionCodes: row.msdyn_disposition_codes ?? undefined,
  };
}

/** `Microsoft.Dynamics.CRM.In`: Dataverse's query function for "column is one of these values". */
export function inFilter(column: string, values: readonly string[]): string {
  return `Microsoft.Dynamics.CRM.In(PropertyName='${column}',PropertyValues=[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')}])`;
}

async function queryRows(client: DataverseClient, filter: string, options: ReconcileOptions, counts: ReconcileCounts): Promise<DeliveryRow[]> {
  counts.queries++;
  const rows: DeliveryRow[] = [];
  let next: string | undefined = `${DELIVERIES_ENTITY_SET}?$select=${SELECT}&$filter=${encodeURIComponent(filter)}`;
  while (next !== undefined) {
    counts.pages++;
    const outcome = await client.read(next, `${DELIVERIES_ENTITY_SET} query`, { Prefer: `odata.maxpagesize=${options.pageSize}` });
    const body = expectOk(outcome, `${DELIVERIES_ENTITY_SET} query`);
    const page = pageSchema.safeParse(body);
    if (!page.success) throw new SystemError('DependencyFailed', `Dataverse ${DELIVERIES_ENTITY_SET} query: the answer is not an OData collection`, true);
    for (const item of page.data.value) {
      const row = rowSchema.safeParse(item);
      if (row.success) rows.push(row.data);
    }
    next = page.data['@odata.nextLink'];
  }
  return rows;
}

async function readTask(client: DataverseClient, deliveryTaskId: string): Promise<ObservedDelivery | undefined> {
  const outcome = await client.read(`${GET_DELIVERY_TASKS_FUNCTION}(DeliveryTaskId=${encodeURIComponent(deliveryTaskId)})`, GET_DELIVERY_TASKS_FUNCTION);
  if (!outcome.ok && outcome.status === 404) return undefined;
  const body = expectOk(outcome, GET_DELIVERY_TASKS_FUNCTION);
  const value = (body as { value?: unknown } | undefined)?.value;
  const task = taskSchema.safeParse(Array.isArray(value) ? value[0] : undefined);
  if (!task.success) return undefined;
  const deliveries = task.data.deliveries ?? [];
  const last = deliveries[deliveries.length - 1];
  return {
    status: task.data.status ?? undefined,
    result: last?.result ?? task.data.contactChainingStatus?.lastDeliveryResult ?? undefined,
    resultDate: task.data.lastAttemptedTime ?? undefined,
    sipDiagnostics: undefined,
    dispositionCodes: undefined,
  };
}

function expectOk(outcome: ActionOutcome, operation: string): unknown {
  if (outcome.ok) return outcome.body;
  // A refused query is the same for every delivery (a column or function this organisation lacks).
  throw new SystemError(
    'DependencyFailed',
    `Dataverse ${operation} answered HTTP ${outcome.status}${outcome.code === undefined ? '' : `, ${outcome.code}`}: ${outcome.message}`,
    outcome.status >= 500,
  );
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

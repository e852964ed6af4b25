import type { CallEvent } from '../contacts/callEvent.js';
import type { HandedCall, Reconciliation } from '../dialers/dialerPort.js';
import { ensureError } from '../errors.js';
import type { EngagementConfig } from '../engagement/engagementSchema.js';
import { lastWindowEnd, LONGEST_CALL_MS, nextCallable } from '../pacing/nextCallable.js';
import type { DeliveryRecord, InFlightRow, QueuedRow } from '../store/dispatch/deliveryStore.js';
import type { PacingTickDeps } from './runPacingTick.js';
import { endWithoutCall, settleEndedDelivery } from './settleEndedDelivery.js';

/** Due rows gathered before they are moved: bounds memory; every due row is still moved in this sweep. */
const PROMOTE_CHUNK = 330;

export interface SweepReport {
  /** Waiting rows made ready because their window opened. */
  readonly promoted: number;
  /** Ready rows whose span closed, put back to wait for their next window. */
  readonly deferred: number;
  /** Queued deliveries ended because no window is left (`Expired`, recorded as an outcome). */
  readonly expired: number;
  /** Handed calls whose outcome was given by the back-end (a lost event). */
  readonly reconciled: number;
  /** Handed calls ended without an outcome (`Unknown`): the back-end could not say, or never answered in time. */
  readonly abandonedWithoutOutcome: number;
}

export interface SweepOptions {
  /** The engagement's in-flight rows, when the caller has read them this tick (one read shared with the tick's view). */
  readonly inFlight?: readonly InFlightRow[];
  /** Whether to look for ready rows whose span closed (default true); see `CLOSED_SWEEP_INTERVAL_MS`. */
  readonly closed?: boolean;
}

/**
 * Keeps one engagement's queue true before pacing reads it: due waiting rows become ready, ready rows
 * whose window closed go back to wait (or expire), and calls handed over without an outcome are
 * reconciled with the back-end or ended. Every step is guarded by the row it moves, so a sweep
 * racing another changes nothing twice. Reads are paged and run to the end of what is due: no fixed
 * limit decides which rows are seen.
 */
export async function sweepDeliveries(deps: PacingTickDeps, engagement: EngagementConfig, now: number, options: SweepOptions = {}): Promise<SweepReport> {
  let promoted = 0;
  let deferred = 0;
  let expired = 0;
  let due: QueuedRow[] = [];
  for await (const row of deps.deliveries.due(engagement.id, now)) {
    due.push(row);
    if (due.length >= PROMOTE_CHUNK) {
      promoted += await deps.deliveries.promote(engagement.id, due, now);
      due = [];
    }
  }
  promoted += await deps.deliveries.promote(engagement.id, due, now);
  if (options.closed !== false) {
    for await (const row of deps.deliveries.closed(engagement.id, now)) {
      const moved = await deps.deliveries.demote(engagement.id, row, now);
      if (moved === 'moved') deferred++;
      if (moved === 'expired' && (await expireQueued(deps, engagement, row, now))) expired++;
    }
  }
  const handed = await endHandedCalls(deps, engagement, now, options.inFlight ?? (await deps.deliveries.inFlight(engagement.id)));
  return { promoted, deferred, expired, ...handed };
}

/** Ends a queued delivery with no window left: `Expired`, recorded as its attempt's outcome, and the contact released. */
export async function expireQueued(deps: PacingTickDeps, engagement: EngagementConfig, row: QueuedRow, now: number): Promise<boolean> {
  const record = await deps.deliveries.endQueued(engagement.id, row, 'expired', 'Expired', now);
  if (record === undefined) return false;
  await deps.outcomes.record(expiredEvent(record, now));
  await settleEndedDelivery(deps, engagement, record, endWithoutCall(record, 'Expired', now));
  deps.log(`delivery ${record.deliveryId} of ${engagement.id}: every calling window has passed; expired`);
  return true;
}

export function expiredEvent(record: DeliveryRecord, now: number): CallEvent {
  return { deliveryId: record.deliveryId, attempt: record.attempt, engagementId: record.engagementId, result: 'Expired', at: new Date(now).toISOString() };
}

/**
 * Calls handed over at least {@link LONGEST_CALL_MS} ago without an outcome. The back-end is asked
 * first: an outcome it gives is recorded like any other; a call it says is still in progress is left
 * until its last window end plus the longest call; anything else ends as `Unknown` (no reattempt: the
 * call may have happened, and a second dial of the same attempt is worse than a missed one).
 */
async function endHandedCalls(
  deps: PacingTickDeps,
  engagement: EngagementConfig,
  now: number,
  inFlight: readonly InFlightRow[],
): Promise<{ reconciled: number; abandonedWithoutOutcome: number }> {
  const stale = inFlight.filter((row) => row.state === 'submitted' && now - row.since >= LONGEST_CALL_MS);
  if (stale.length === 0) return { reconciled: 0, abandonedWithoutOutcome: 0 };
  const records = (await Promise.all(stale.map((row) => deps.deliveries.get(engagement.id, row.deliveryId)))).filter(
    (r): r is DeliveryRecord => r !== undefined && r.state === 'submitted',
  );
  const calls: HandedCall[] = records.map((r) => ({
    engagementId: engagement.id,
    deliveryId: r.deliveryId,
    attempt: r.attempt,
    backendRef: r.backendRef,
    since: stale.find((s) => s.deliveryId === r.deliveryId)?.since ?? now,
  }));
  let answers: Reconciliation[] = [];
  try {
    if (deps.dialer.reconcile !== undefined) answers = await deps.dialer.reconcile(calls, now);
  } catch (error) {
    // A back-end that cannot answer now (throttled, down) is asked again next tick: ending its calls
    // as Unknown on a failed question would drop outcomes it still holds.
    deps.log(
      `reconciling ${calls.length} handed call(s) of ${engagement.id} with ${deps.dialer.name} failed; asking again next tick: ${ensureError(error).message}`,
    );
    return { reconciled: 0, abandonedWithoutOutcome: 0 };
  }
  let reconciled = 0;
  let abandonedWithoutOutcome = 0;
  for (const call of calls) {
    const answer = answers.find((a) => a.deliveryId === call.deliveryId && a.attempt === call.attempt);
    if (answer?.status === 'ended') {
      await deps.record(answer.event);
      reconciled++;
      continue;
    }
    const record = records.find((r) => r.deliveryId === call.deliveryId);
    if (record === undefined) continue;
    // The span the call was handed over for: the back-end may place it anywhere inside it.
    const spanEnd = nextCallable(record.contact.windows, call.since)?.end ?? call.since;
    const deadline = Math.min(Math.max(spanEnd, call.since), lastWindowEnd(record.contact.windows)) + LONGEST_CALL_MS;
    if (answer?.status === 'in-progress' && now < deadline) continue;
    await deps.record({ deliveryId: call.deliveryId, attempt: call.attempt, engagementId: engagement.id, result: 'Unknown', at: new Date(now).toISOString() });
    deps.log(
      `delivery ${call.deliveryId} of ${engagement.id}: no outcome from ${deps.dialer.name} ${Math.round((now - call.since) / 60_000)} min after hand-over (${answer?.status ?? 'no reconcile'}); ended as Unknown`,
    );
    abandonedWithoutOutcome++;
  }
  return { reconciled, abandonedWithoutOutcome };
}

import type { CallEvent } from '../contacts/callEvent.js';
import type { DialerPort, DialRequest, InFlightDelivery } from '../dialers/dialerPort.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import type { EngagementConfig, QueueConfig } from '../engagement/engagementSchema.js';
import { NO_ACTIVE_CALLS, type ActiveCalls } from '../pacing/activeCalls.js';
import { decidePacing } from '../pacing/decidePacing.js';
import { isCallableNow } from '../pacing/isCallableNow.js';
import type { PacingDecision } from '../pacing/pacingDecision.js';
import { isAvailable, type PresencePort, type QueueMembersPort } from '../presence/presencePort.js';
import { frequencyLimitLiftsAt, frequencyLimitReached } from '../planning/planDeliveries.js';
import type { DoNotContactStore } from '../store/contacts/doNotContactStore.js';
import type { FrequencyLedgerStore } from '../store/contacts/frequencyLedgerStore.js';
import type { PendingContactStore } from '../store/contacts/pendingContactStore.js';
import { ensureError } from '../errors.js';
import type { DeliveryRecord, DeliveryStore, InFlightRow, QueuedRow } from '../store/dispatch/deliveryStore.js';
import type { OutcomeStore } from '../store/dispatch/outcomeStore.js';
import type { RecentOutcomes } from './recentOutcomes.js';
import type { PacingStateStore } from '../store/dispatch/pacingStateStore.js';

/** Rows of each engagement's call order read per tick: the callable head of the queue. */
export const QUEUE_SCAN_LIMIT = 1_000;
/** Outcomes older than this are not read per tick (rules look back at most this far in practice). */
export const OUTCOME_LOOKBACK_MS = 24 * 3_600_000;
/** A claim left in `dialing` this long (a crash between claim and hand-over) is handed over again. */
export const DIAL_RECOVERY_MS = 60_000;
/** Queued deliveries cancelled per tick for a stopped engagement; the rest go on the next ticks. */
export const CANCEL_PER_TICK = 500;
/** In-flight deliveries are reconciled with a back-end that can say what happened (Dynamics 365) this often. */
export const RECONCILE_INTERVAL_MS = 30_000;

/** Optional views a back-end may give of its own calls and people (the simulator has them; D365 does not). */
export interface DialerInsight {
  activeCalls?(engagementId: string): ActiveCalls;
}

export interface PacingTickDeps {
  readonly catalog: EngagementCatalog;
  readonly deliveries: DeliveryStore;
  readonly outcomes: OutcomeStore;
  /** The last OUTCOME_LOOKBACK_MS of outcomes per engagement, read incrementally. */
  readonly recentOutcomes: RecentOutcomes;
  readonly stateStore: PacingStateStore;
  readonly pending: PendingContactStore;
  readonly doNotContact: DoNotContactStore;
  readonly ledger: FrequencyLedgerStore;
  readonly dialer: DialerPort & DialerInsight;
  readonly presence: PresencePort;
  readonly queueMembers?: QueueMembersPort;
  readonly leaseMs: number;
  readonly log: (line: string) => void;
  /** The one outcome recorder; with a back-end that can reconcile (Dynamics 365), outcomes it reads back go here. */
  readonly record?: (event: CallEvent) => Promise<unknown>;
  /** How often in-flight deliveries are reconciled with the back-end; RECONCILE_INTERVAL_MS by default. */
  readonly reconcileIntervalMs?: number;
}

export interface TickReport {
  readonly ran: boolean;
  readonly decisions: readonly PacingDecision[];
  readonly dialed: number;
  readonly rejected: number;
  readonly recovered: number;
  readonly cancelled: number;
}

interface EngagementView {
  readonly engagement: EngagementConfig;
  readonly inFlight: readonly InFlightRow[];
  readonly callable: readonly QueuedRow[];
}

/**
 * One pacing tick: under the pacing lease, reads each engagement's queue head, calls in flight and
 * recent outcomes, asks `decidePacing` how many calls to place, saves the new state and decisions,
 * then claims and dials. A claim happens before the hand-over and both carry the attempt number, so
 * a crash or a second tick never dials the same attempt twice: claims are exclusive, and a claim left
 * behind is handed over again with the same (delivery, attempt), which back-ends treat idempotently.
 */
export async function runPacingTick(deps: PacingTickDeps, now: number): Promise<TickReport> {
  const idle: TickReport = { ran: false, decisions: [], dialed: 0, rejected: 0, recovered: 0, cancelled: 0 };
  if (!(await deps.stateStore.acquireLease(now, deps.leaseMs))) return idle;
  const engagements = [...deps.catalog.engagements.values()];
  const reconciled = await reconcileDue(deps, engagements, now);
  const views = await Promise.all(engagements.map((engagement) => viewOf(deps, engagement, now)));
  const stored = await deps.stateStore.load();
  const outcomes = new Map(await Promise.all(engagements.map(async (e) => [e.id, await deps.recentOutcomes.of(e.id, now)] as const)));
  const { availableRepresentatives, staffedRepresentatives } = await representativesByQueue(deps);
  const result = decidePacing({
    now: new Date(now),
    engagements,
    queues: deps.catalog.queues,
    availableRepresentatives,
    staffedRepresentatives,
    active: new Map(views.map((v) => [v.engagement.id, activeCallsOf(deps.dialer, v)])),
    outcomes,
    pending: new Map(views.map((v) => [v.engagement.id, v.callable.length])),
    state: stored.state,
  });
  if (!(await deps.stateStore.save(result.state, stored.etag))) {
    deps.log('pacing state changed during the tick (another owner?): this tick places no calls');
    return idle;
  }
  await deps.stateStore.appendDecisions(result.decisions);

  let dialed = 0;
  let rejected = 0;
  let recovered = 0;
  let cancelled = 0;
  const throttledUntil = await deps.dialer.throttledUntil?.(now);
  if (throttledUntil !== undefined)
    deps.log(`throttled by ${deps.dialer.name} until ${new Date(throttledUntil).toISOString()}: no calls handed over this tick`);
  for (const decision of result.decisions) {
    const view = views.find((v) => v.engagement.id === decision.engagementId);
    if (view === undefined) continue;
    if (decision.cancelQueuedDeliveries) {
      cancelled += await cancelQueued(deps, view, now);
      continue;
    }
    if (throttledUntil !== undefined) continue;
    recovered += await recoverStaleClaims(deps, view, now);
    if (decision.dialNow <= 0) continue;
    const outcome = await dialNow(deps, view, decision, now);
    dialed += outcome.dialed;
    rejected += outcome.rejected;
  }
  if (dialed + rejected + recovered + cancelled + reconciled > 0) {
    deps.log(`pacing tick: dialed ${dialed}, rejected ${rejected}, re-handed ${recovered}, cancelled ${cancelled}, outcomes reconciled ${reconciled}`);
  }
  return { ran: true, decisions: result.decisions, dialed, rejected, recovered, cancelled };
}

/** When each tick's deps last reconciled (per process: a restart only brings the next pass forward). */
const lastReconciled = new WeakMap<PacingTickDeps, number>();

/**
 * Asks a back-end that can reconcile (Dynamics 365) what became of the deliveries handed to it, every
 * `reconcileIntervalMs`, and records what it says through the one recorder (idempotent per delivery and
 * attempt, so outcomes also pushed to /api/call-events count once). A failure is logged and retried
 * at the next interval; it never stops the tick.
 */
async function reconcileDue(deps: PacingTickDeps, engagements: readonly EngagementConfig[], now: number): Promise<number> {
  const { dialer, record } = deps;
  if (dialer.reconcile === undefined || record === undefined) return 0;
  const last = lastReconciled.get(deps);
  if (last !== undefined && now - last < (deps.reconcileIntervalMs ?? RECONCILE_INTERVAL_MS)) return 0;
  lastReconciled.set(deps, now);
  const inFlight: InFlightDelivery[] = [];
  for (const engagement of engagements) {
    for (const row of await deps.deliveries.inFlight(engagement.id)) {
      if (row.state === 'submitted') inFlight.push({ engagementId: engagement.id, deliveryId: row.deliveryId, attempt: row.attempt, since: row.since });
    }
  }
  let events: CallEvent[];
  try {
    events = await dialer.reconcile(inFlight, now);
  } catch (error) {
    deps.log(`reconciling ${inFlight.length} delivery(ies) with ${dialer.name} failed; next try in the next interval: ${ensureError(error).message}`);
    return 0;
  }
  for (const event of events) await record(event);
  return events.length;
}

async function viewOf(deps: PacingTickDeps, engagement: EngagementConfig, now: number): Promise<EngagementView> {
  const [inFlight, queued] = await Promise.all([deps.deliveries.inFlight(engagement.id), deps.deliveries.queued(engagement.id, QUEUE_SCAN_LIMIT)]);
  const at = new Date(now);
  const callable = queued.filter((row) => row.notBefore <= now && isCallableNow(row.windows, at));
  return { engagement, inFlight, callable };
}

/** What pacing knows of calls in flight: the back-end's own view when it has one, else our in-flight rows as ringing. */
function activeCallsOf(dialer: DialerInsight, view: EngagementView): ActiveCalls {
  const own = dialer.activeCalls?.(view.engagement.id);
  if (own !== undefined) return own;
  const representativeIds = view.inFlight.flatMap((row) => (row.representativeId === undefined ? [] : [row.representativeId]));
  return { ...NO_ACTIVE_CALLS, ringing: view.inFlight.length, representativeIds };
}

/**
 * Per queue: members Available now, and members signed in at all (any presence but Offline or
 * unknown), the pool predictive's minimum of 10 is judged on.
 */
async function representativesByQueue(
  deps: PacingTickDeps,
): Promise<{ availableRepresentatives: Map<string, string[]>; staffedRepresentatives: Map<string, number> }> {
  const members = new Map<string, string[]>();
  await Promise.all(
    [...deps.catalog.queues.values()].map(async (queue: QueueConfig) => {
      members.set(queue.name, await membersOf(deps, queue));
    }),
  );
  const everyone = [...new Set([...members.values()].flat())];
  const presence = everyone.length === 0 ? new Map() : await deps.presence.getAvailability(everyone);
  const availableRepresentatives = new Map<string, string[]>();
  const staffedRepresentatives = new Map<string, number>();
  for (const [queue, ids] of members) {
    availableRepresentatives.set(
      queue,
      ids.filter((id) => isAvailable(presence.get(id) ?? 'PresenceUnknown')),
    );
    staffedRepresentatives.set(queue, ids.filter((id) => !['Offline', 'PresenceUnknown'].includes(presence.get(id) ?? 'PresenceUnknown')).length);
  }
  return { availableRepresentatives, staffedRepresentatives };
}

async function membersOf(deps: PacingTickDeps, queue: QueueConfig): Promise<string[]> {
  if (queue.representatives !== undefined) return queue.representatives.map((r) => r.userId);
  if (queue.entraGroupId !== undefined && deps.queueMembers !== undefined) return deps.queueMembers.listGroupMembers(queue.entraGroupId);
  return [];
}

async function dialNow(deps: PacingTickDeps, view: EngagementView, decision: PacingDecision, now: number): Promise<{ dialed: number; rejected: number }> {
  const { engagement } = view;
  const claimed: DeliveryRecord[] = [];
  const representatives: (string | undefined)[] = [];
  let rejected = 0;
  for (const row of view.callable) {
    if (claimed.length >= decision.dialNow) break;
    const representativeId = engagement.dialMode.mode === 'preview' ? decision.reservedRepresentativeIds[claimed.length] : undefined;
    if (engagement.dialMode.mode === 'preview' && representativeId === undefined) break;
    const record = await deps.deliveries.claim(engagement.id, row, now, representativeId);
    if (record === undefined) continue;
    // The do-not-contact list may have grown since planning: check again at dial time.
    if (await isDoNotContact(deps.doNotContact, record)) {
      await deps.deliveries.finishAttempt(engagement.id, record.deliveryId, record.attempt, 'Cancelled', { final: 'rejected' }, now);
      await deps.pending.clear(engagement.id, record.contact.contactId, record.deliveryId);
      rejected++;
      continue;
    }
    // So may the contact's engagements elsewhere: frequency limits are checked again too.
    if (await postponedForFrequency(deps, engagement, record, now)) continue;
    claimed.push(record);
    representatives.push(representativeId);
  }
  if (claimed.length === 0) return { dialed: 0, rejected };
  const requests = claimed.map((record, i) => toDialRequest(engagement, record, representatives[i]));
  const handed = await handOver(deps, engagement, requests, now);
  return { dialed: handed.accepted, rejected: rejected + handed.rejected };
}

/**
 * A contact engaged by other engagements since it was planned may now be over its limit: the attempt
 * goes back to the queue until the limit lifts (next local day or week), or ends if no window is left.
 */
async function postponedForFrequency(deps: PacingTickDeps, engagement: EngagementConfig, record: DeliveryRecord, now: number): Promise<boolean> {
  const { perDay, perWeek } = engagement.frequencyLimits;
  if (perDay === undefined && perWeek === undefined) return false;
  const { contact } = record;
  const recent = (await deps.ledger.recent([contact.contactId], now)).get(contact.contactId) ?? [];
  const limit = frequencyLimitReached(engagement, recent, contact.timeZone, now);
  if (limit === undefined) return false;
  const liftsAt = frequencyLimitLiftsAt(limit, contact.timeZone, now);
  const lastEnd = Math.max(0, ...contact.windows.map((w) => Date.parse(w.end)));
  if (liftsAt < lastEnd) {
    await deps.deliveries.postpone(engagement.id, record.deliveryId, record.attempt, liftsAt, now);
  } else {
    await deps.deliveries.finishAttempt(engagement.id, record.deliveryId, record.attempt, 'Expired', { final: 'rejected' }, now);
    await deps.pending.clear(engagement.id, contact.contactId, record.deliveryId);
  }
  deps.log(
    `delivery ${record.deliveryId} of ${engagement.id}: ${limit} reached since planning; ${liftsAt < lastEnd ? `postponed to ${new Date(liftsAt).toISOString()}` : 'no window left, ended'}`,
  );
  return true;
}

async function isDoNotContact(dnc: DoNotContactStore, record: DeliveryRecord): Promise<boolean> {
  if (await dnc.contains({ contactId: record.contact.contactId })) return true;
  for (const phone of record.contact.phones) if (!(await dnc.contains({ phone: phone.e164 }))) return false;
  return true;
}

/**
 * Gives claimed attempts to the back-end and records what it said. When the back-end fails as a whole
 * the claims stay in `dialing` and are handed over again by {@link recoverStaleClaims}.
 */
async function handOver(
  deps: PacingTickDeps,
  engagement: EngagementConfig,
  requests: readonly DialRequest[],
  now: number,
): Promise<{ accepted: number; rejected: number }> {
  let submissions;
  try {
    submissions = await deps.dialer.dial(requests);
  } catch (error) {
    deps.log(
      `dialer ${deps.dialer.name} failed for ${requests.length} call(s) of ${engagement.id}; they will be handed over again: ${ensureError(error).message}`,
    );
    return { accepted: 0, rejected: 0 };
  }
  let accepted = 0;
  let rejected = 0;
  for (const [i, submission] of submissions.entries()) {
    const request = requests[i];
    if (request === undefined) continue;
    if (submission.status === 'accepted') {
      await deps.deliveries.markSubmitted(engagement.id, request.deliveryId, request.attempt, submission.backendRef, now);
      accepted++;
    } else {
      deps.log(`delivery ${request.deliveryId} of ${engagement.id} rejected by ${deps.dialer.name}: ${submission.reason}`);
      await deps.deliveries.finishAttempt(engagement.id, request.deliveryId, request.attempt, 'Error', { final: 'rejected' }, now);
      await deps.pending.clear(engagement.id, request.contact.contactId, request.deliveryId);
      rejected++;
    }
  }
  return { accepted, rejected };
}

async function recoverStaleClaims(deps: PacingTickDeps, view: EngagementView, now: number): Promise<number> {
  const stale = view.inFlight.filter((row) => row.state === 'dialing' && now - row.since >= DIAL_RECOVERY_MS);
  if (stale.length === 0) return 0;
  const records = (await Promise.all(stale.map((row) => deps.deliveries.get(view.engagement.id, row.deliveryId)))).filter(
    (r): r is DeliveryRecord => r !== undefined && r.state === 'dialing',
  );
  const requests = records.map((record) => toDialRequest(view.engagement, record, stale.find((s) => s.deliveryId === record.deliveryId)?.representativeId));
  const handed = await handOver(deps, view.engagement, requests, now);
  return handed.accepted + handed.rejected;
}

/**
 * A stopped engagement: its queued deliveries are cancelled here, and calls handed over but not yet
 * placed are cancelled at the back-end (their outcome comes back as Cancelled and ends the attempt).
 */
async function cancelQueued(deps: PacingTickDeps, view: EngagementView, now: number): Promise<number> {
  const { engagement } = view;
  const handedOver = view.inFlight.filter((row) => row.state === 'submitted').map((row) => row.deliveryId);
  if (handedOver.length > 0) await deps.dialer.cancel(handedOver);
  const rows = await deps.deliveries.queued(engagement.id, CANCEL_PER_TICK);
  let cancelled = 0;
  for (const row of rows) {
    const record = await deps.deliveries.cancelQueued(engagement.id, row, now);
    if (record === undefined) continue;
    await deps.pending.clear(engagement.id, record.contact.contactId, record.deliveryId);
    cancelled++;
  }
  return cancelled;
}

/**
 * The call as the back-end needs it. AI-led calls also carry, as input attributes, what the agent leg
 * needs to know which call it is on (engagement, delivery, attempt, the contact's IANA zone and first
 * name): Contact Center passes input attributes to the Copilot Studio agent as its context, which
 * forwards them to /api/messages, and they let a call-events flow name the attempt it reports.
 */
export function toDialRequest(engagement: EngagementConfig, record: DeliveryRecord, representativeId: string | undefined): DialRequest {
  const { contact } = record;
  const callContext =
    engagement.type === 'ai-led'
      ? {
          engagementId: engagement.id,
          deliveryId: record.deliveryId,
          attempt: String(record.attempt),
          timeZone: contact.timeZone,
          ...(contact.firstName === undefined ? {} : { firstName: contact.firstName }),
          ...(contact.locale === undefined ? {} : { locale: contact.locale }),
        }
      : {};
  return {
    deliveryId: record.deliveryId,
    attempt: record.attempt,
    engagementId: engagement.id,
    ...(engagement.dynamicsConfigId === undefined ? {} : { dynamicsConfigId: engagement.dynamicsConfigId }),
    priority: contact.priority,
    contact: {
      contactId: contact.contactId,
      ...(contact.firstName === undefined ? {} : { firstName: contact.firstName }),
      ...(contact.lastName === undefined ? {} : { lastName: contact.lastName }),
      ...(contact.email === undefined ? {} : { email: contact.email }),
      phones: contact.phones.map(({ type, e164 }) => ({ type, e164 })),
      timeZone: contact.timeZone,
      attributes: { ...contact.attributes, ...callContext },
      windows: contact.windows,
    },
    ...(representativeId === undefined ? {} : { representativeId }),
  };
}

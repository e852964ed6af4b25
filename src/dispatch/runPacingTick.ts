import type { CallEvent } from '../contacts/callEvent.js';
import type { DialerPort, DialRequest, InFlightDelivery } from '../dialers/dialerPort.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import type { EngagementConfig, QueueConfig } from '../engagement/engagementSchema.js';
import { PREDICTIVE_MAX_RATE } from '../pacing/computePredictiveRate.js';
import { NO_ACTIVE_CALLS, type ActiveCalls } from '../pacing/activeCalls.js';
import { decidePacing, outcomeWindowMinutes } from '../pacing/decidePacing.js';
import { MAX_WINDOW_MINUTES } from '../pacing/outcomeCounts.js';
import { OFCOM_WINDOW_MINUTES } from '../pacing/evaluateRules.js';
import { lastWindowEnd, LONGEST_CALL_MS, nextCallable } from '../pacing/nextCallable.js';
import { isUkNumber, OFCOM_ABANDONED_HOLD_MS, ofcomHoldUntil } from '../pacing/ofcom.js';
import type { CallWindow, ContactPhone, PlannedContact } from '../contacts/plannedContact.js';
import type { PacingDecision } from '../pacing/pacingDecision.js';
import { ownEntry, setOwn, type PacingState } from '../pacing/pacingState.js';
import { isAvailable, type Availability, type PresencePort, type QueueMembersPort } from '../presence/presencePort.js';
import { frequencyLimitLiftsAt, frequencyLimitReached } from '../planning/planDeliveries.js';
import type { DoNotContactStore } from '../store/contacts/doNotContactStore.js';
import type { FrequencyLedgerStore } from '../store/contacts/frequencyLedgerStore.js';
import type { PendingContactStore } from '../store/contacts/pendingContactStore.js';
import { ensureError } from '../errors.js';
import type { DeliveryRecord, DeliveryStore, InFlightRow, QueuedRow } from '../store/dispatch/deliveryStore.js';
import { expiredEvent, sweepDeliveries } from './sweepDeliveries.js';
import type { OutcomeStore } from '../store/dispatch/outcomeStore.js';
import type { RecentOutcomes } from './recentOutcomes.js';
import type { PacingStateStore } from '../store/dispatch/pacingStateStore.js';
import type { PacingLeaseStore } from '../store/dispatch/pacingLeaseStore.js';
import { forgetLeaseStep, LeaseGuard, takePacingLeasesCached } from './takePacingLeases.js';
import { pacingGroups } from '../pacing/pacingGroups.js';
import type { JourneyOutboxStore } from '../store/journeyOutcomes/journeyOutboxStore.js';
import { endWithoutCall, settleEndedDelivery } from './settleEndedDelivery.js';

/**
 * Ready rows counted for pacing's "pending" input. Only a count: pacing never dials more than its
 * capacity, far below this, and which rows are dialed is decided by reading the ready index in call
 * order as far as needed.
 */
export const PENDING_COUNT_CAP = 5_000;
/** The longest window of outcomes pacing reads (30 days of hourly aggregates); each engagement reads only its own longest. */
export const OUTCOME_LOOKBACK_MS = MAX_WINDOW_MINUTES * 60_000;
/** A claim left in `dialing` this long (a crash between claim and hand-over) is handed over again. */
export const DIAL_RECOVERY_MS = 60_000;
/** Queued deliveries cancelled per tick for a stopped engagement; the rest go on the next ticks. */
export const CANCEL_PER_TICK = 500;
/** Preview with `start: manual` and no countdown: how long a representative has to accept an offer. */
export const PREVIEW_ACCEPT_DEFAULT_MS = 15_000;
/** In-flight deliveries are reconciled with a back-end that can say what happened (Dynamics 365) this often. */
export const RECONCILE_INTERVAL_MS = 30_000;
/**
 * The sweep looks for ready rows whose span closed at least this often (and at the next tick when the
 * queue head shows one). A closed row is never dialed meanwhile (the dial path checks its span), so the
 * interval only delays when it waits for its next window or expires, well inside the grace period.
 */
export const CLOSED_SWEEP_INTERVAL_MS = 5 * 60_000;

/** Optional views a back-end may give of its own calls and people (the simulator has them; D365 does not). */
export interface DialerInsight {
  activeCalls?(engagementId: string): ActiveCalls;
}

export interface PacingTickDeps {
  readonly catalog: EngagementCatalog;
  readonly deliveries: DeliveryStore;
  readonly outcomes: OutcomeStore;
  /** Each engagement's outcome counters over its longest window, from the hourly aggregates. */
  readonly recentOutcomes: RecentOutcomes;
  readonly stateStore: PacingStateStore;
  readonly pending: PendingContactStore;
  readonly doNotContact: DoNotContactStore;
  readonly ledger: FrequencyLedgerStore;
  /** Where deliveries that end without a final outcome (cancelled, expired, rejected) queue their journey outcome. */
  readonly journeyOutbox?: JourneyOutboxStore;
  readonly dialer: DialerPort & DialerInsight;
  readonly presence: PresencePort;
  readonly queueMembers?: QueueMembersPort;
  /** Where the pacing groups' leases and the instances' heartbeats are kept. */
  readonly leases: PacingLeaseStore;
  /**
   * How long a lease lasts unrenewed (PACING_LEASE_SECONDS): an instance that stops ticking has its
   * engagements taken over this long after its last tick. A hand-over must finish within half of it
   * (see {@link LeaseGuard}).
   */
  readonly leaseMs: number;
  /** The time inside a tick, for the lease checks before each hand-over; the tick's `now` when omitted. */
  readonly clock?: () => number;
  /**
   * Applies an outcome (the one recorder): the sweep records what reconcile gives, or `Unknown`; with a
   * back-end that can be polled (Dynamics 365), the outcomes it reads back go here too.
   */
  readonly record: (event: CallEvent) => Promise<unknown>;
  readonly log: (line: string) => void;
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
  /** Deliveries ended by the sweep or at dial time because no window was left. */
  readonly expired: number;
  /** Claimed attempts put back because no phone was callable or a frequency limit was reached. */
  readonly postponed: number;
  /** The engagements this instance paced this tick (those of the groups whose lease it holds). */
  readonly engagements: readonly string[];
}

interface EngagementView {
  readonly engagement: EngagementConfig;
  readonly inFlight: readonly InFlightRow[];
  /** Ready rows (callable now), counted up to {@link PENDING_COUNT_CAP}. */
  readonly ready: number;
  /** The ready rows counted, in call order: the dial path starts from them rather than reading them again. */
  readonly head: readonly QueuedRow[];
  /** Whether `head` is the whole ready index (the count stopped before the cap). */
  readonly headIsAll: boolean;
}

/**
 * One pacing tick. First the lease step ({@link takePacingLeases}): the instance takes or renews the
 * leases of its share of the pacing groups (engagements linked by a queue; see `pacingGroups`), so
 * several instances split the engagements and one group has one owner at a time. Then, for the
 * engagements of the groups it holds only, it reads each queue head, calls in flight and recent
 * outcomes, asks `decidePacing` how many calls to place (per group: the group's state rows, saved
 * conditionally), then claims and dials. Before handing calls over it checks that it still holds the
 * group's lease ({@link LeaseGuard}); a lease lost mid-tick leaves the claims in `dialing` for the new
 * holder, which hands them over with the same (delivery, attempt) after {@link DIAL_RECOVERY_MS}.
 * Claims are exclusive and carry the attempt number, so neither a crash nor two instances ever dial
 * the same attempt twice.
 */
export async function runPacingTick(deps: PacingTickDeps, now: number): Promise<TickReport> {
  const idle: TickReport = { ran: false, decisions: [], dialed: 0, rejected: 0, recovered: 0, cancelled: 0, expired: 0, postponed: 0, engagements: [] };
  const groups = pacingGroups([...deps.catalog.engagements.values()]);
  const taken = await takePacingLeasesCached(deps, deps.leases, groups, now, deps.leaseMs);
  const clock = deps.clock ?? (() => now);
  const guards = new Map<string, LeaseGuard>();
  for (const group of groups) {
    const lease = taken.held.get(group.key);
    if (lease !== undefined) guards.set(group.key, new LeaseGuard(deps.leases, lease, deps.leaseMs, clock));
  }
  const mine = groups.filter((g) => guards.has(g.key));
  if (mine.length === 0) return idle;
  const engagements = mine.flatMap((g) => g.engagements);
  // One in-flight read per engagement, shared by the sweep, reconciliation and the view; read again
  // only for an engagement whose calls the sweep or reconciliation just ended.
  const inFlight = new Map(await Promise.all(engagements.map(async (e) => [e.id, await deps.deliveries.inFlight(e.id)] as const)));
  const swept = await Promise.all(
    engagements.map(async (engagement) => {
      const report = await sweepDeliveries(deps, engagement, now, { inFlight: inFlight.get(engagement.id), closed: closedSweepDue(deps, engagement.id, now) });
      if (report.reconciled + report.abandonedWithoutOutcome > 0) inFlight.set(engagement.id, await deps.deliveries.inFlight(engagement.id));
      return report.expired;
    }),
  );
  let expired = swept.reduce((a, b) => a + b, 0);
  const reconciled = await reconcileDue(deps, engagements, inFlight, now);
  const { availableRepresentatives, staffedRepresentatives } = await representativesByQueue(deps);
  const views = await Promise.all(
    engagements.map((engagement) => viewOf(deps, engagement, inFlight.get(engagement.id) ?? [], readyCountCap(engagement, staffedRepresentatives), now)),
  );
  const outcomes = new Map(await Promise.all(engagements.map(async (e) => [e.id, await deps.recentOutcomes.of(e.id, now, outcomeWindowMinutes(e))] as const)));
  // Each group is decided on its own state rows: the representatives of its queues are dealt among
  // its engagements only, and no other group's engagements share those queues.
  const decided = await Promise.all(
    mine.map(async (group) => {
      const stored = await deps.stateStore.load({ engagements: group.engagements.map((e) => e.id), queues: group.queues });
      const uk = ukEngagements(deps, stored.state, now);
      const result = decidePacing({
        now: new Date(now),
        engagements: group.engagements,
        queues: deps.catalog.queues,
        availableRepresentatives,
        staffedRepresentatives,
        active: new Map(views.filter((v) => group.engagements.includes(v.engagement)).map((v) => [v.engagement.id, activeCallsOf(deps.dialer, v)])),
        outcomes,
        pending: new Map(views.map((v) => [v.engagement.id, v.ready])),
        ukEngagements: uk,
        state: stored.state,
      });
      const state = withUkDials(deps, result.state, group.engagements);
      if (!(await deps.stateStore.save(state, stored.etag, { decisions: result.decisions, previous: stored.decisions }))) {
        deps.log(`pacing state of ${group.key} changed during the tick (an operator's action?): this tick places no calls for it`);
        return { group, decisions: [] as PacingDecision[] };
      }
      return { group, decisions: result.decisions };
    }),
  );

  let dialed = 0;
  let rejected = 0;
  let recovered = 0;
  let cancelled = 0;
  let postponed = 0;
  const throttledUntil = await deps.dialer.throttledUntil?.(now);
  if (throttledUntil !== undefined)
    deps.log(`throttled by ${deps.dialer.name} until ${new Date(throttledUntil).toISOString()}: no calls handed over this tick`);
  for (const { group, decisions } of decided) {
    const guard = guards.get(group.key);
    if (guard === undefined) continue;
    for (const decision of decisions) {
      const view = views.find((v) => v.engagement.id === decision.engagementId);
      if (view === undefined) continue;
      if (decision.cancelQueuedDeliveries) {
        cancelled += await cancelQueued(deps, view, now);
        continue;
      }
      if (throttledUntil !== undefined) continue;
      postponed += await releaseExpiredOffers(deps, view, now);
      const recovery = await recoverStaleClaims(deps, view, guard, now);
      recovered += recovery.handed;
      rejected += recovery.checks.rejected;
      expired += recovery.checks.expired;
      postponed += recovery.checks.postponed;
      if (decision.dialNow <= 0) continue;
      const outcome = await dialNow(deps, view, decision, guard, now);
      dialed += outcome.dialed;
      rejected += outcome.rejected + outcome.checks.rejected;
      expired += outcome.checks.expired;
      postponed += outcome.checks.postponed;
    }
  }
  if ([...guards.values()].some((guard) => guard.changed)) forgetLeaseStep(deps);
  if (dialed + rejected + recovered + cancelled + expired + postponed + reconciled > 0) {
    deps.log(
      `pacing tick: dialed ${dialed}, rejected ${rejected}, re-handed ${recovered}, cancelled ${cancelled}, expired ${expired}, postponed ${postponed}, outcomes reconciled ${reconciled}`,
    );
  }
  const decisions = decided.flatMap((d) => d.decisions);
  return { ran: true, decisions, dialed, rejected, recovered, cancelled, expired, postponed, engagements: engagements.map((e) => e.id) };
}

/** When each tick's deps last reconciled (per process: a restart only brings the next pass forward). */
const lastReconciled = new WeakMap<PacingTickDeps, number>();

/**
 * Asks a back-end that can reconcile (Dynamics 365) what became of the deliveries handed to it, every
 * `reconcileIntervalMs`, and records what it says through the one recorder (idempotent per delivery and
 * attempt, so outcomes also pushed to /api/call-events count once). A failure is logged and retried
 * at the next interval; it never stops the tick.
 */
async function reconcileDue(
  deps: PacingTickDeps,
  engagements: readonly EngagementConfig[],
  inFlightByEngagement: Map<string, readonly InFlightRow[]>,
  now: number,
): Promise<number> {
  const { dialer, record } = deps;
  if (dialer.pollOutcomes === undefined) return 0;
  const last = lastReconciled.get(deps);
  if (last !== undefined && now - last < (deps.reconcileIntervalMs ?? RECONCILE_INTERVAL_MS)) return 0;
  lastReconciled.set(deps, now);
  const inFlight: InFlightDelivery[] = [];
  for (const engagement of engagements) {
    for (const row of inFlightByEngagement.get(engagement.id) ?? []) {
      if (row.state === 'submitted') inFlight.push({ engagementId: engagement.id, deliveryId: row.deliveryId, attempt: row.attempt, since: row.since });
    }
  }
  let events: CallEvent[];
  try {
    events = await dialer.pollOutcomes(inFlight, now);
  } catch (error) {
    deps.log(`reconciling ${inFlight.length} delivery(ies) with ${dialer.name} failed; next try in the next interval: ${ensureError(error).message}`);
    return 0;
  }
  for (const event of events) await record(event);
  if (events.length > 0) {
    for (const engagement of engagements) inFlightByEngagement.set(engagement.id, await deps.deliveries.inFlight(engagement.id));
  }
  return events.length;
}

/** When each tick's deps last looked for closed ready rows, per engagement (per process, like {@link lastReconciled}). */
const lastClosedSweep = new WeakMap<PacingTickDeps, Map<string, number>>();

function closedSweepDue(deps: PacingTickDeps, engagementId: string, now: number): boolean {
  const last = lastClosedSweep.get(deps) ?? new Map<string, number>();
  lastClosedSweep.set(deps, last);
  const at = last.get(engagementId);
  if (at !== undefined && now >= at && now - at < CLOSED_SWEEP_INTERVAL_MS) return false;
  last.set(engagementId, now);
  return true;
}

/**
 * The engagement's ready rows counted up to `cap`, read in one page of that size. A closed row at the
 * head (its span ended since the last closed sweep) brings that sweep forward to the next tick.
 */
async function viewOf(deps: PacingTickDeps, engagement: EngagementConfig, inFlight: readonly InFlightRow[], cap: number, now: number): Promise<EngagementView> {
  const head: QueuedRow[] = [];
  for await (const row of deps.deliveries.ready(engagement.id, { pageSize: cap })) {
    head.push(row);
    if (head.length >= cap) break;
  }
  if (head.some((row) => row.at <= now)) lastClosedSweep.get(deps)?.delete(engagement.id);
  return { engagement, inFlight, ready: head.length, head, headIsAll: head.length < cap };
}

/** The ready index in call order: the rows the view read, then, when it stopped at its cap, the rest. */
async function* readyInOrder(deps: PacingTickDeps, view: EngagementView): AsyncIterable<QueuedRow> {
  yield* view.head;
  const last = view.head[view.head.length - 1];
  if (view.headIsAll || last === undefined) return;
  yield* deps.deliveries.ready(view.engagement.id, { after: last.rowKey });
}

/**
 * How many ready rows are worth counting for pacing's "pending": more than the engagement could have in
 * flight with every signed-in representative of its queues changes no decision (dialNow and the
 * representatives it asks for are both bounded by it), and counting is a read of that many rows each tick.
 */
export function readyCountCap(engagement: EngagementConfig, staffed: ReadonlyMap<string, number>): number {
  const mode = engagement.dialMode;
  if (mode.mode === 'copilot') return Math.min(PENDING_COUNT_CAP, mode.maxConcurrentCalls + 1);
  const { primaryQueue, fallbackQueue } = engagement.routing;
  const reps = (staffed.get(primaryQueue) ?? 0) + (fallbackQueue === undefined ? 0 : (staffed.get(fallbackQueue) ?? 0));
  const perRep = mode.mode === 'preview' ? 1 : mode.mode === 'predictive' ? PREDICTIVE_MAX_RATE : mode.maxCallsPerRepresentative;
  return Math.min(PENDING_COUNT_CAP, Math.max(1, reps * perRep) + 1);
}

/**
 * Claims not handed over yet (a crash, a back-end that failed, or a lease lost mid-tick on another
 * instance) are calls about to be placed: the instance that recovers them hands them over with their
 * (delivery, attempt), so they count as ringing even though the back-end does not know them yet.
 * Within one tick claims are handed over before the next decision, so only such leftovers are counted.
 */
function withUnhandedClaims(own: ActiveCalls | undefined, view: EngagementView): ActiveCalls | undefined {
  if (own === undefined) return undefined;
  const claims = view.inFlight.filter((row) => row.state === 'dialing' && row.offeredUntil === undefined);
  if (claims.length === 0) return own;
  return {
    ...own,
    ringing: own.ringing + claims.length,
    ...(own.ringingSince === undefined ? {} : { ringingSince: [...own.ringingSince, ...claims.map((row) => row.since)] }),
  };
}

/** What pacing knows of calls in flight: the back-end's own view when it has one, else our in-flight rows as ringing. */
function activeCallsOf(dialer: DialerInsight, view: EngagementView): ActiveCalls {
  const own = withUnhandedClaims(dialer.activeCalls?.(view.engagement.id), view);
  // Offers waiting for an accept are not at the back-end yet; their representatives stay reserved.
  const offered = view.inFlight.filter((row) => row.state === 'dialing' && row.offeredUntil !== undefined && row.representativeId !== undefined);
  if (own !== undefined && offered.length > 0) {
    return {
      ...own,
      ringing: own.ringing + offered.length,
      representativeIds: [...(own.representativeIds ?? []), ...offered.flatMap((row) => (row.representativeId === undefined ? [] : [row.representativeId]))],
    };
  }
  if (own !== undefined) return own;
  const representativeIds = view.inFlight.flatMap((row) => (row.representativeId === undefined ? [] : [row.representativeId]));
  return { ...NO_ACTIVE_CALLS, ringing: view.inFlight.length, representativeIds, ringingSince: view.inFlight.map((row) => row.since) };
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
  const presence = everyone.length === 0 ? new Map<string, Availability>() : await deps.presence.getAvailability(everyone);
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

interface CheckCounts {
  rejected: number;
  expired: number;
  postponed: number;
}

type DialCheck = { readonly ok: true; readonly request: DialRequest } | { readonly ok: false; readonly ended: keyof CheckCounts; readonly reason?: string };

/**
 * Reads the ready index in call order, as far as needed to claim `dialNow` attempts. Every claim is
 * checked as a first dial would be ({@link checkAtDial}); rows that fail go back or end, and the read
 * goes on past them.
 */
async function dialNow(
  deps: PacingTickDeps,
  view: EngagementView,
  decision: PacingDecision,
  guard: LeaseGuard,
  now: number,
): Promise<{ dialed: number; rejected: number; checks: CheckCounts }> {
  const { engagement } = view;
  const requests: DialRequest[] = [];
  const checks: CheckCounts = { rejected: 0, expired: 0, postponed: 0 };
  if (!(await guard.stillHeld())) return { dialed: 0, rejected: 0, checks };
  for await (const row of readyInOrder(deps, view)) {
    if (requests.length >= decision.dialNow) break;
    if (row.at <= now || row.notBefore > now) continue; // the next sweep moves it; it is not callable now
    const representativeId = engagement.dialMode.mode === 'preview' ? decision.reservedRepresentativeIds[requests.length] : undefined;
    if (engagement.dialMode.mode === 'preview' && representativeId === undefined) break;
    const offerUntil = representativeId === undefined ? undefined : offerDeadline(engagement, now);
    const record = await deps.deliveries.claim(engagement.id, row, now, representativeId, offerUntil);
    if (record === undefined) continue;
    const check = await checkAtDial(deps, engagement, record, representativeId, now);
    if (check.ok) requests.push(check.request);
    else checks[check.ended]++;
  }
  // Manual start: the claims are offers; the representative's accept hands each over (acceptOffer).
  if (requests.length > 0 && isManualPreview(engagement)) {
    deps.log(`${requests.length} preview delivery(ies) of ${engagement.id} offered, waiting for the representative to accept`);
    return { dialed: 0, rejected: 0, checks };
  }
  if (requests.length === 0) return { dialed: 0, rejected: 0, checks };
  if (!(await leaseStillHeld(deps, guard, engagement, requests.length))) return { dialed: 0, rejected: 0, checks };
  const handed = await handOver(deps, engagement, requests, now);
  return { dialed: handed.accepted, rejected: handed.rejected, checks };
}

/**
 * The rules a claimed attempt must pass right before it is handed over, whether it is a first dial or
 * a claim handed over again after a crash: the do-not-contact list (it may have grown since planning),
 * frequency limits (other engagements may have reached the contact), and the phones' own windows
 * (quiet hours are per phone type, legal and operating hours are inside those windows). Only phones
 * callable now are sent, with a window in which every one of them is.
 */
export async function checkAtDial(
  deps: PacingTickDeps,
  engagement: EngagementConfig,
  record: DeliveryRecord,
  representativeId: string | undefined,
  now: number,
): Promise<DialCheck> {
  if (await isDoNotContact(deps.doNotContact, record)) {
    if (await deps.deliveries.finishAttempt(engagement.id, record.deliveryId, record.attempt, 'Cancelled', { final: 'rejected' }, now)) {
      await settleEndedDelivery(deps, engagement, record, endWithoutCall(record, 'Cancelled', now));
    }
    return { ok: false, ended: 'rejected' };
  }
  const request = toDialRequest(engagement, record, representativeId, now);
  if (request.contact.phones.length > 0) {
    const held = await heldForOfcom(deps, engagement, record, request, representativeId, now);
    if (held !== undefined) return held;
    if (await postponedForFrequency(deps, engagement, record, now)) return { ok: false, ended: 'postponed' };
    if (request.contact.phones.some((p) => isUkNumber(p.e164))) noteUkDial(deps, engagement.id, now);
    return { ok: true, request };
  }
  const next = nextCallable(record.contact.windows, now + 1);
  if (next !== undefined) {
    await deps.deliveries.postpone(engagement.id, record.deliveryId, record.attempt, next.start, now);
    return { ok: false, ended: 'postponed' };
  }
  if (await deps.deliveries.finishAttempt(engagement.id, record.deliveryId, record.attempt, 'Expired', { final: 'expired' }, now)) {
    await deps.outcomes.record(expiredEvent(record, now));
    await settleEndedDelivery(deps, engagement, record, endWithoutCall(record, 'Expired', now));
  }
  return { ok: false, ended: 'expired' };
}

/** Per worker: when each engagement last handed a UK (+44) number over. */
const lastUkDial = new WeakMap<PacingTickDeps, Map<string, number>>();

function noteUkDial(deps: PacingTickDeps, engagementId: string, now: number): void {
  const last = lastUkDial.get(deps) ?? new Map<string, number>();
  lastUkDial.set(deps, last);
  last.set(engagementId, now);
}

/**
 * Engagements that called UK numbers in the last 24 hours (Ofcom's period), whose abandonment pacing
 * also judges over 24 hours: the worker's own UK dials, and the last one saved in the engagement's
 * pacing state (by this worker at an earlier tick, or by the instance that paced it before a lease
 * takeover or a restart). The 24-hour rate itself is read from the Outcomes table's hourly aggregates.
 */
function ukEngagements(deps: PacingTickDeps, state: PacingState, now: number): Set<string> {
  const ids = new Set<string>();
  const recent = (at: number | undefined) => at !== undefined && now - at < OFCOM_WINDOW_MINUTES * 60_000;
  for (const [id, at] of lastUkDial.get(deps) ?? []) if (recent(at)) ids.add(id);
  for (const [id, engagement] of Object.entries(state.engagements)) {
    if (engagement.lastUkDialAt !== undefined && recent(Date.parse(engagement.lastUkDialAt))) ids.add(id);
  }
  return ids;
}

/**
 * The state to save with this worker's UK dials folded in (the latest of the saved instant and its
 * own), so that the next instance to pace the engagement judges its abandonment over 24 hours as well.
 * A dial is saved at the tick after it (a tick saves its state before it dials).
 */
function withUkDials(deps: PacingTickDeps, state: PacingState, engagements: readonly EngagementConfig[]): PacingState {
  const own = lastUkDial.get(deps);
  if (own === undefined) return state;
  const next: PacingState = { ...state, engagements: { ...state.engagements } };
  for (const engagement of engagements) {
    const at = own.get(engagement.id);
    const current = ownEntry(next.engagements, engagement.id);
    if (at === undefined || current === undefined) continue;
    const saved = current.lastUkDialAt === undefined ? undefined : Date.parse(current.lastUkDialAt);
    if (saved !== undefined && saved >= at) continue;
    setOwn(next.engagements, engagement.id, { ...current, lastUkDialAt: new Date(at).toISOString() });
  }
  return next;
}

/**
 * Ofcom: an attempt to UK numbers within 72 hours of an abandoned call to the contact (an earlier attempt
 * of this delivery, an earlier delivery, or another engagement's) waits for the 72-hour mark, unless a
 * representative is guaranteed on it (preview, or a reserved representative); with no window left by
 * then, the delivery ends as Expired. The contact's recent attempts come from its frequency ledger
 * (abandoned calls engaged the contact, so they stay there eight days) and their results from the
 * Outcomes table, so the hold survives restarts and spans workers.
 */
async function heldForOfcom(
  deps: PacingTickDeps,
  engagement: EngagementConfig,
  record: DeliveryRecord,
  request: DialRequest,
  representativeId: string | undefined,
  now: number,
): Promise<DialCheck | undefined> {
  const guaranteed = engagement.dialMode.mode === 'preview' || representativeId !== undefined;
  if (guaranteed || !request.contact.phones.some((p) => isUkNumber(p.e164))) return undefined;
  const current = `${record.deliveryId}#${record.attempt}`;
  // Ledger entries are dated at the dial; the call ended up to the longest call later.
  const recent = await deps.ledger.entries(record.contact.contactId, now - OFCOM_ABANDONED_HOLD_MS - LONGEST_CALL_MS);
  const previous: CallEvent[] = [];
  for (const entry of recent) {
    const split = entry.attemptKey.lastIndexOf('#');
    const attempt = Number(entry.attemptKey.slice(split + 1));
    if (entry.attemptKey === current || split < 0 || !Number.isInteger(attempt)) continue;
    const event = await deps.outcomes.get(entry.engagementId, entry.attemptKey.slice(0, split), attempt);
    if (event !== undefined) previous.push(event);
  }
  const until = ofcomHoldUntil(request.contact.phones, previous, guaranteed, now);
  if (until === undefined) return undefined;
  const abandonedAt = new Date(until - OFCOM_ABANDONED_HOLD_MS).toISOString();
  let reason = `Ofcom: a call to its UK number was abandoned at ${abandonedAt}; not called again within 72 h without a guaranteed representative`;
  let ended: keyof CheckCounts = 'postponed';
  if (until < lastWindowEnd(record.contact.windows)) {
    await deps.deliveries.postpone(engagement.id, record.deliveryId, record.attempt, until, now);
    reason += `: postponed to ${new Date(until).toISOString()}`;
  } else {
    ended = 'expired';
    reason += ': no window left after the 72 h mark, ended';
    if (await deps.deliveries.finishAttempt(engagement.id, record.deliveryId, record.attempt, 'Expired', { final: 'expired' }, now)) {
      await deps.outcomes.record(expiredEvent(record, now));
      await settleEndedDelivery(deps, engagement, record, endWithoutCall(record, 'Expired', now));
    }
  }
  deps.log(`delivery ${record.deliveryId} attempt ${record.attempt} of ${engagement.id}: ${reason}`);
  return { ok: false, ended, reason };
}

/**
 * The attempt is counted in the contact's frequency ledger as it is dialed, in one conditional write
 * that also checks the engagement's limits: a contact engaged by other engagements since it was planned,
 * or being dialed by another engagement right now, may be over its limit. Counting at dial time rather
 * than at the outcome keeps two engagements from calling the same contact at once; an outcome that did
 * not engage the contact takes the count back. Over the limit, the attempt goes back to the queue until
 * the limit lifts (next local day or week), or ends if no window is left.
 */
async function postponedForFrequency(deps: PacingTickDeps, engagement: EngagementConfig, record: DeliveryRecord, now: number): Promise<boolean> {
  const { contact } = record;
  const { claimed, instants } = await deps.ledger.claim(
    contact.contactId,
    { at: now, engagementId: engagement.id, attemptKey: `${record.deliveryId}#${record.attempt}` },
    (recent) => frequencyLimitReached(engagement, recent, contact.timeZone, now) === undefined,
  );
  if (claimed) return false;
  const limit = frequencyLimitReached(engagement, instants, contact.timeZone, now);
  if (limit === undefined) return false;
  const liftsAt = frequencyLimitLiftsAt(limit, contact.timeZone, now);
  const lastEnd = lastWindowEnd(contact.windows);
  if (liftsAt < lastEnd) {
    await deps.deliveries.postpone(engagement.id, record.deliveryId, record.attempt, liftsAt, now);
  } else {
    if (await deps.deliveries.finishAttempt(engagement.id, record.deliveryId, record.attempt, 'Expired', { final: 'expired' }, now)) {
      await deps.outcomes.record(expiredEvent(record, now));
      await settleEndedDelivery(deps, engagement, record, endWithoutCall(record, 'Expired', now));
    }
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
 * The last check before a hand-over: an instance whose lease of the engagement's group was taken over
 * (it expired while this tick ran) hands nothing over; the claims stay in `dialing` and the new holder
 * hands them over, once, with the same (delivery, attempt).
 */
async function leaseStillHeld(deps: PacingTickDeps, guard: LeaseGuard, engagement: EngagementConfig, calls: number): Promise<boolean> {
  if (await guard.stillHeld()) return true;
  deps.log(`pacing lease of ${guard.group} lost during the tick: ${calls} claimed call(s) of ${engagement.id} left to its new holder`);
  return false;
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
      if (await deps.deliveries.finishAttempt(engagement.id, request.deliveryId, request.attempt, 'Error', { final: 'rejected' }, now)) {
        // The back-end refused the call: it was counted at dial time and never placed.
        await deps.ledger.forget(request.contact.contactId, `${request.deliveryId}#${request.attempt}`);
        const record = await deps.deliveries.get(engagement.id, request.deliveryId);
        if (record !== undefined) await settleEndedDelivery(deps, engagement, record, endWithoutCall(request, 'Error', now));
      }
      rejected++;
    }
  }
  return { accepted, rejected };
}

/**
 * Claims left in `dialing` (a crash between the claim and the hand-over, or a back-end that failed as a
 * whole) are handed over again with the same (delivery, attempt), after the same checks as a first
 * dial: time has passed, and the contact may have left its window or joined the do-not-contact list.
 */
async function recoverStaleClaims(
  deps: PacingTickDeps,
  view: EngagementView,
  guard: LeaseGuard,
  now: number,
): Promise<{ handed: number; checks: CheckCounts }> {
  const checks: CheckCounts = { rejected: 0, expired: 0, postponed: 0 };
  const stale = view.inFlight.filter((row) => row.state === 'dialing' && row.offeredUntil === undefined && now - row.since >= DIAL_RECOVERY_MS);
  if (stale.length === 0) return { handed: 0, checks };
  const records = (await Promise.all(stale.map((row) => deps.deliveries.get(view.engagement.id, row.deliveryId)))).filter(
    (r): r is DeliveryRecord => r !== undefined && r.state === 'dialing',
  );
  const requests: DialRequest[] = [];
  for (const record of records) {
    const representativeId = stale.find((s) => s.deliveryId === record.deliveryId)?.representativeId;
    const check = await checkAtDial(deps, view.engagement, record, representativeId, now);
    if (check.ok) requests.push(check.request);
    else checks[check.ended]++;
  }
  if (requests.length === 0) return { handed: 0, checks };
  if (!(await leaseStillHeld(deps, guard, view.engagement, requests.length))) return { handed: 0, checks };
  const handed = await handOver(deps, view.engagement, requests, now);
  return { handed: handed.accepted + handed.rejected, checks };
}

function isManualPreview(engagement: EngagementConfig): boolean {
  return engagement.dialMode.mode === 'preview' && engagement.dialMode.start === 'manual';
}

/** When an offer made now lapses: the engagement's countdown, or PREVIEW_ACCEPT_DEFAULT_MS when it has none. */
function offerDeadline(engagement: EngagementConfig, now: number): number | undefined {
  const mode = engagement.dialMode;
  if (mode.mode !== 'preview' || mode.start !== 'manual') return undefined;
  return now + (mode.countdownSeconds > 0 ? mode.countdownSeconds * 1000 : PREVIEW_ACCEPT_DEFAULT_MS);
}

/**
 * Offers not accepted in time: the reservation is released (the in-flight row goes, so the
 * representative is free again) and the delivery goes back to the queue untried, its frequency count
 * taken back. Returns how many were put back.
 */
async function releaseExpiredOffers(deps: PacingTickDeps, view: EngagementView, now: number): Promise<number> {
  let released = 0;
  for (const row of view.inFlight) {
    if (row.state !== 'dialing' || row.offeredUntil === undefined || row.offeredUntil > now) continue;
    if (!(await deps.deliveries.postpone(view.engagement.id, row.deliveryId, row.attempt, now, now))) continue;
    const record = await deps.deliveries.get(view.engagement.id, row.deliveryId);
    if (record !== undefined) await deps.ledger.forget(record.contact.contactId, `${row.deliveryId}#${row.attempt}`);
    deps.log(`preview delivery ${row.deliveryId} of ${view.engagement.id} not accepted in time: back in the queue`);
    released++;
  }
  return released;
}

export type AcceptResult =
  | { readonly status: 'handed-over' | 'rejected' }
  | { readonly status: 'refused'; readonly reason: string }
  | { readonly status: 'ended'; readonly ended: keyof CheckCounts };

/**
 * The representative accepts a preview offer (`start: manual`): the attempt is checked again as a
 * first dial is (time has passed since the offer) and handed over. Refused when there is no open offer
 * for that delivery, it lapsed, or it was offered to someone else.
 */
export async function acceptOffer(
  deps: PacingTickDeps,
  engagement: EngagementConfig,
  deliveryId: string,
  representativeId: string,
  now: number,
): Promise<AcceptResult> {
  if (!isManualPreview(engagement)) return { status: 'refused', reason: `engagement ${engagement.id} does not wait for an accept (preview with start manual)` };
  const row = (await deps.deliveries.inFlight(engagement.id)).find((r) => r.deliveryId === deliveryId);
  if (row === undefined || row.state !== 'dialing' || row.offeredUntil === undefined) return { status: 'refused', reason: 'no open offer for this delivery' };
  if (row.offeredUntil <= now) return { status: 'refused', reason: 'the offer lapsed; the delivery goes back to the queue' };
  if (row.representativeId !== representativeId) return { status: 'refused', reason: 'the delivery was offered to another representative' };
  const record = await deps.deliveries.get(engagement.id, deliveryId);
  if (record === undefined || record.state !== 'dialing' || record.attempt !== row.attempt)
    return { status: 'refused', reason: 'no open offer for this delivery' };
  const check = await checkAtDial(deps, engagement, record, representativeId, now);
  if (!check.ok) return { status: 'ended', ended: check.ended };
  const handed = await handOver(deps, engagement, [check.request], now);
  if (handed.accepted === 1) return { status: 'handed-over' };
  if (handed.rejected === 1) return { status: 'rejected' };
  return { status: 'refused', reason: `the back-end ${deps.dialer.name} failed; accept again` };
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
    await settleEndedDelivery(deps, engagement, record, endWithoutCall(record, 'Cancelled', now));
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
export function toDialRequest(engagement: EngagementConfig, record: DeliveryRecord, representativeId: string | undefined, now: number): DialRequest {
  const { contact } = record;
  const open = callablePhones(contact, now);
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
      phones: open.phones,
      timeZone: contact.timeZone,
      attributes: { ...contact.attributes, ...callContext },
      windows: open.windows,
    },
    ...(representativeId === undefined ? {} : { representativeId }),
  };
}

/**
 * The phones that may be dialed now, each inside its own windows (quiet hours are per phone type), in
 * the engagement's phone order, and one window in which every one of them stays callable: from now to
 * the earliest end of their open spans. A back-end that dials later (Dynamics 365 holds the delivery
 * for its windows) can then never reach a phone in that phone's quiet hours.
 */
export function callablePhones(contact: PlannedContact, now: number): { phones: ContactPhone[]; windows: CallWindow[] } {
  const open = contact.phones.flatMap((phone) => {
    const span = nextCallable(phone.windows, now);
    return span !== undefined && span.start <= now ? [{ phone, end: span.end }] : [];
  });
  if (open.length === 0) return { phones: [], windows: [] };
  const end = Math.min(...open.map((o) => o.end));
  return {
    phones: open.map(({ phone }) => ({ type: phone.type, e164: phone.e164 })),
    windows: [{ start: new Date(now).toISOString(), end: new Date(end).toISOString() }],
  };
}

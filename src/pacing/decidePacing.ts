import type { CallEvent } from '../contacts/callEvent.js';
import { DEFAULT_FAILURE_RATE_PERCENT, PRIORITY_RANK, type EngagementConfig, type FailurePolicy, type QueueConfig } from '../engagement/engagementSchema.js';
import { callsInFlight, NO_ACTIVE_CALLS, type ActiveCalls } from './activeCalls.js';
import { allocateRepresentatives, type RepresentativeDemand } from './allocateRepresentatives.js';
import {
  computePredictiveRate,
  predictiveLinesInFlight,
  predictiveSafeLines,
  PREDICTIVE_RECENT_MINUTES,
  PREDICTIVE_ROLLING_MINUTES,
  type PredictiveEvaluation,
} from './computePredictiveRate.js';
import { evaluateFailurePolicy, type FailurePolicyEvaluation } from './evaluateFailurePolicy.js';
import { evaluateRules, OFCOM_WINDOW_MINUTES, type RulesVerdict } from './evaluateRules.js';
import { isWithinOperatingHours } from './isWithinOperatingHours.js';
import { OutcomeCounts } from './outcomeCounts.js';
import { OutcomeLog } from './outcomeLog.js';
import type { BoundBy, CopilotEvaluation, PacingDecision, RoutingEvaluation } from './pacingDecision.js';
import { ownEntry, setOwn, type EngagementPacingState, type PacingState, type PacingStatus } from './pacingState.js';
import { withCallsInProgress, type OutcomeSummary } from './summarizeOutcomes.js';

/**
 * Recent outcomes of one engagement: raw events (indexed per call), events already indexed by the
 * caller, or the counters per 5-minute step the dispatch shell reads from the hourly aggregates.
 */
export type OutcomeSource = readonly CallEvent[] | OutcomeLog | OutcomeCounts;

export interface PacingInputs {
  readonly now: Date;
  readonly engagements: readonly EngagementConfig[];
  readonly queues: ReadonlyMap<string, QueueConfig>;
  /** Per queue: representatives free for a new call (Graph Available / AvailableIdle, not on a call). */
  readonly availableRepresentatives: ReadonlyMap<string, readonly string[]>;
  /**
   * Per queue: representatives signed in (free, on a call or wrapping up), the pool predictive's minimum
   * of 10 is about. Defaults to free ones + calls with a representative on engagements of that queue.
   */
  readonly staffedRepresentatives?: ReadonlyMap<string, number>;
  readonly active: ReadonlyMap<string, ActiveCalls>;
  /** Per engagement: outcome events of the last 30 days at most (the longest window used). */
  readonly outcomes: ReadonlyMap<string, OutcomeSource>;
  /** Per engagement: deliveries callable now (inside their windows, not yet dialed). */
  readonly pending: ReadonlyMap<string, number>;
  /**
   * Engagements calling UK (+44) numbers: their abandonment is also judged over the last 24 hours
   * (Ofcom), from `outcomes` (which must then reach back 24 hours).
   */
  readonly ukEngagements?: ReadonlySet<string>;
  readonly state: PacingState;
}

export interface PacingResult {
  readonly state: PacingState;
  /** One per engagement, in the order of `engagements`. */
  readonly decisions: PacingDecision[];
}

/** Without a configured policy an AI-led engagement gets the product default: continue until 1%. */
const DEFAULT_FAILURE_POLICY: FailurePolicy = { action: 'continue-until', failureRatePercent: DEFAULT_FAILURE_RATE_PERCENT };

/** Everything decided about an engagement before the queue's representatives are shared out. */
interface Plan {
  readonly engagement: EngagementConfig;
  /** The queue served from first (the primary, unless it lacks the required skills or is closed). */
  readonly queue: string;
  readonly routing: RoutingPlan;
  readonly active: ActiveCalls;
  readonly inFlight: number;
  readonly pending: number;
  readonly withinHours: boolean;
  readonly blocked?: { status: PacingStatus; boundBy: BoundBy; reason: string };
  readonly hold: EngagementPacingState['hold'];
  readonly rules: RulesVerdict;
  readonly failurePolicy?: FailurePolicyEvaluation;
  readonly predictive?: PredictiveEvaluation;
  readonly copilotRates?: { perDial: number; perAnswer: number };
  /** Lines per allocated representative (progressive, preview, predictive). */
  readonly ratio: number;
  /** Signed-in representatives of the queues that may serve it. */
  readonly staffed: number;
  readonly demand: RepresentativeDemand;
}

/** Which of the engagement's queues may serve it now, and why the others may not. */
interface RoutingPlan {
  readonly primaryQueue: string;
  readonly fallbackQueue?: string;
  readonly skills: readonly string[];
  /** Queues that may serve it, in order (primary first). */
  readonly usable: readonly string[];
  readonly skipped: readonly { readonly queue: string; readonly reason: string }[];
}

/**
 * One pacing tick over every engagement: how many calls each places now, which representatives preview
 * reserves, the new state and a record of why. Pure: everything it knows comes in as arguments.
 *
 * Per engagement: a stop or pause-until-restart holds; the failure policy (AI-led) and the rules are
 * evaluated over its outcomes since its last restart; the dial mode turns the representatives it is
 * allocated into a limit of calls in flight (preview 1 each, progressive maxCallsPerRepresentative,
 * predictive its rate, or representative-led the safe lines of the free representatives when more,
 * copilot min(concurrency, escalation bound)); the binding rule decreases that
 * limit; dialNow = min(limit - in flight, pending), never negative.
 */
export function decidePacing(inputs: PacingInputs): PacingResult {
  const { now } = inputs;
  const reserved = new Set<string>();
  for (const active of inputs.active.values()) for (const id of active.representativeIds ?? []) reserved.add(id);
  const available = new Map<string, string[]>();
  for (const [queue, ids] of inputs.availableRepresentatives) {
    available.set(
      queue,
      [...new Set(ids)].filter((id) => !reserved.has(id)),
    );
  }
  const staffed = (queue: string): number => {
    const given = inputs.staffedRepresentatives?.get(queue);
    if (given !== undefined) return given;
    let withRep = 0;
    for (const e of inputs.engagements) {
      if (e.routing.primaryQueue === queue) withRep += (inputs.active.get(e.id) ?? NO_ACTIVE_CALLS).withRepresentative;
    }
    return (available.get(queue)?.length ?? 0) + withRep;
  };

  const plans = inputs.engagements.map((engagement) => planEngagement(engagement, inputs, staffed));
  const allocation = allocateRepresentatives(
    available,
    plans.map((p) => p.demand),
    inputs.state.cursors,
  );

  const engagements: Record<string, EngagementPacingState> = { ...inputs.state.engagements };
  const decisions = plans.map((plan) => {
    const reps = allocation.byEngagement.get(plan.engagement.id) ?? [];
    const fromFallback = allocation.fromFallback.get(plan.engagement.id)?.length ?? 0;
    const decision = decide(plan, reps, fromFallback, available, plan.staffed, now);
    setOwn(engagements, plan.engagement.id, nextState(ownEntry(inputs.state.engagements, plan.engagement.id), plan, decision, now));
    return decision;
  });
  return { state: { version: 1, engagements, cursors: allocation.cursors }, decisions };
}

/**
 * The queues that may serve an engagement: its primary, then its fallback, each only if it has every
 * skill the engagement requires (`routing.skills` within the queue's `skills`) and is within its
 * operating hours (or the engagement may dial outside them).
 */
function planRouting(engagement: EngagementConfig, queues: ReadonlyMap<string, QueueConfig>, now: Date): RoutingPlan {
  const { primaryQueue, fallbackQueue, skills } = engagement.routing;
  const usable: string[] = [];
  const skipped: { queue: string; reason: string }[] = [];
  for (const name of fallbackQueue === undefined ? [primaryQueue] : [primaryQueue, fallbackQueue]) {
    const queue = queues.get(name);
    if (queue === undefined) {
      skipped.push({ queue: name, reason: 'not in the queue configuration' });
      continue;
    }
    const missing = skills.filter((skill) => !queue.skills.includes(skill));
    if (missing.length > 0) skipped.push({ queue: name, reason: `lacks the required skill(s) ${missing.join(', ')}` });
    else if (!engagement.operatingHours.allowOutsideQueueHours && !isWithinOperatingHours(queue.operatingHours, now)) {
      skipped.push({ queue: name, reason: `outside its operating hours (${queue.operatingHours.timeZone})` });
    } else usable.push(name);
  }
  return { primaryQueue, ...(fallbackQueue === undefined ? {} : { fallbackQueue }), skills, usable, skipped };
}

/**
 * The longest window pacing summarises an engagement's outcomes over: its rules' windows, the hour of
 * predictive's recent term, Ofcom's 24 hours, and 30 days where a rolling rate is used (predictive,
 * copilot escalation rates, the AI agent failure policy). The caller reads that much and no more.
 */
export function outcomeWindowMinutes(engagement: EngagementConfig): number {
  const rolling = engagement.type === 'ai-led' || engagement.dialMode.mode === 'predictive' || engagement.dialMode.mode === 'copilot';
  return Math.max(
    rolling ? PREDICTIVE_ROLLING_MINUTES : 0,
    PREDICTIVE_RECENT_MINUTES,
    OFCOM_WINDOW_MINUTES,
    ...engagement.rules.map((rule) => rule.windowMinutes),
  );
}

function planEngagement(engagement: EngagementConfig, inputs: PacingInputs, staffedOf: (queue: string) => number): Plan {
  const { now } = inputs;
  const previous = ownEntry(inputs.state.engagements, engagement.id);
  const queueName = engagement.routing.primaryQueue;
  const queue = inputs.queues.get(queueName);
  const routing = planRouting(engagement, inputs.queues, now);
  const servedBy = routing.usable[0] ?? queueName;
  // Predictive's minimum of 10 and the rules' staffing are about every queue that may serve the engagement.
  const staffedReps = routing.usable.length === 0 ? staffedOf(queueName) : routing.usable.reduce((sum, q) => sum + staffedOf(q), 0);
  const active = inputs.active.get(engagement.id) ?? NO_ACTIVE_CALLS;
  const inFlight = callsInFlight(engagement, active);
  const pending = Math.max(0, Math.floor(inputs.pending.get(engagement.id) ?? 0));
  const source = inputs.outcomes.get(engagement.id) ?? [];
  const log = source instanceof OutcomeLog || source instanceof OutcomeCounts ? source : OutcomeLog.from(source);
  const aiLed = engagement.type === 'ai-led';
  const since = previous?.countingSince === undefined ? undefined : new Date(previous.countingSince);
  // Every rate is judged with the calls answered and still up counted as live answers (see withCallsInProgress).
  const summarizeSince = (minutes: number): OutcomeSummary =>
    withCallsInProgress(log.summarize(now, minutes, since === undefined ? {} : { since }), active, aiLed);
  const rolling = withCallsInProgress(log.summarize(now, PREDICTIVE_ROLLING_MINUTES), active, aiLed);

  let hold = previous?.hold;
  let failurePolicy: FailurePolicyEvaluation | undefined;
  if (engagement.type === 'ai-led') {
    failurePolicy = evaluateFailurePolicy(engagement.agentFailurePolicy ?? DEFAULT_FAILURE_POLICY, summarizeSince(PREDICTIVE_ROLLING_MINUTES));
    if (failurePolicy.tripped && hold === undefined) hold = { status: 'stopped', reason: failurePolicy.explanation, since: now.toISOString() };
  }
  const ofcom = inputs.ukEngagements?.has(engagement.id) === true;
  const rules = evaluateRules({
    engagement,
    summarize: summarizeSince,
    active,
    staffedRepresentatives: staffedReps,
    ...(ofcom ? { ofcom24h: withCallsInProgress(log.summarize(now, OFCOM_WINDOW_MINUTES), active, aiLed) } : {}),
  });
  if (rules.binding?.effect === 'pause-until-restart' && hold === undefined) {
    hold = { status: 'paused', reason: rules.binding.explanation, since: now.toISOString() };
  }

  const withinHours = queue === undefined ? false : isWithinOperatingHours(queue.operatingHours, now);
  let blocked: Plan['blocked'];
  if (hold !== undefined) {
    const boundBy = hold.status === 'stopped' ? 'stopped' : hold.byOperator === true ? 'operator-paused' : 'paused-until-restart';
    blocked = { status: hold.status, boundBy, reason: hold.reason };
  } else if (engagement.paused) {
    blocked = { status: 'paused', boundBy: 'configuration-paused', reason: 'paused in the engagement configuration' };
  } else if (queue === undefined) {
    blocked = { status: 'paused', boundBy: 'unknown-queue', reason: `queue ${queueName} is not in the queue configuration` };
  } else if (rules.binding !== undefined && rules.factor === 0) {
    blocked = { status: 'paused', boundBy: `rule:${rules.binding.kind}`, reason: rules.binding.explanation };
  } else if (routing.skills.length > 0 && routing.skipped.every((s) => s.reason.startsWith('lacks')) && routing.usable.length === 0) {
    blocked = {
      status: 'paused',
      boundBy: 'missing-skills',
      reason: `no queue has the required skill(s): ${routing.skipped.map((s) => `${s.queue} ${s.reason}`).join('; ')}`,
    };
  } else if (routing.usable.length === 0) {
    blocked = {
      status: rules.factor < 1 ? 'throttled' : 'running',
      boundBy: 'outside-operating-hours',
      reason:
        routing.fallbackQueue === undefined
          ? `outside the operating hours of queue ${queueName} (${queue.operatingHours.timeZone})`
          : `no queue may serve it now: ${routing.skipped.map((s) => `${s.queue} ${s.reason}`).join('; ')}`,
    };
  }
  const dialing = blocked === undefined;
  const f = rules.factor;

  let predictive: PredictiveEvaluation | undefined;
  let copilotRates: Plan['copilotRates'];
  let ratio = 1;
  let committed = 0;
  let wanted = 0;
  const mode = engagement.dialMode;
  switch (mode.mode) {
    case 'preview':
      wanted = dialing && f > 0 ? ceil(pending / f) : 0;
      break;
    case 'progressive':
    case 'predictive': {
      if (mode.mode === 'progressive') ratio = mode.maxCallsPerRepresentative;
      else {
        predictive = computePredictiveRate({
          engagement,
          rolling,
          recent: withCallsInProgress(log.summarize(now, PREDICTIVE_RECENT_MINUTES), active, aiLed),
          compliance: summarizeSince(engagement.rules.find((r) => r.kind === 'abandonment-rate')?.windowMinutes ?? PREDICTIVE_ROLLING_MINUTES),
          staffedRepresentatives: staffedReps,
          ...(previous?.predictive === undefined ? {} : { previous: previous.predictive }),
          dialing,
          now,
        });
        ratio = predictive.rate;
      }
      committed = ceil(inFlight / ratio);
      wanted = dialing && f > 0 ? Math.max(0, ceil((inFlight + pending) / (ratio * f)) - committed) : 0;
      break;
    }
    case 'copilot': {
      copilotRates = {
        perDial: (rolling.escalations + 1) / (rolling.dialed + 1),
        perAnswer: (rolling.escalations + 1) / (rolling.liveAnswers + 1),
      };
      const expected = expectedEscalations(active, copilotRates);
      committed = ceil(expected / mode.maxCallsPerRepresentative);
      const room = Math.max(0, Math.floor(mode.maxConcurrentCalls * f) - inFlight);
      const more = dialing ? Math.min(pending, room) : 0;
      wanted = Math.max(0, ceil((expected + more * copilotRates.perDial) / mode.maxCallsPerRepresentative) - committed);
      break;
    }
  }
  return {
    engagement,
    queue: servedBy,
    routing,
    staffed: staffedReps,
    active,
    inFlight,
    pending,
    withinHours,
    ...(blocked === undefined ? {} : { blocked }),
    hold,
    rules,
    ...(failurePolicy === undefined ? {} : { failurePolicy }),
    ...(predictive === undefined ? {} : { predictive }),
    ...(copilotRates === undefined ? {} : { copilotRates }),
    ratio,
    demand: {
      engagementId: engagement.id,
      queue: servedBy,
      ...(routing.usable[1] === undefined ? {} : { fallbackQueue: routing.usable[1] }),
      rank: PRIORITY_RANK[engagement.priority],
      committed,
      wanted,
    },
  };
}

function decide(
  plan: Plan,
  reps: readonly string[],
  fromFallback: number,
  available: ReadonlyMap<string, readonly string[]>,
  staffedReps: number,
  now: Date,
): PacingDecision {
  const freeInQueue = available.get(plan.queue)?.length ?? 0;
  const { engagement, rules, inFlight, pending } = plan;
  const f = rules.factor;
  const allocated = reps.length;
  let capacityRaw: number;
  let modeBound: BoundBy;
  let copilot: CopilotEvaluation | undefined;
  let safeLines: number | undefined;
  const mode = engagement.dialMode;
  if (mode.mode === 'copilot') {
    const rates = plan.copilotRates ?? { perDial: 1, perAnswer: 1 };
    const expected = expectedEscalations(plan.active, rates);
    const escalationCapacity = allocated * mode.maxCallsPerRepresentative;
    const escalationLimit = inFlight + Math.floor((escalationCapacity - expected) / rates.perDial + 1e-9);
    capacityRaw = Math.max(0, Math.min(mode.maxConcurrentCalls, escalationLimit));
    modeBound = escalationLimit < mode.maxConcurrentCalls ? 'escalation-capacity' : 'copilot-concurrency';
    copilot = {
      maxConcurrentCalls: mode.maxConcurrentCalls,
      escalationsPerDial: rates.perDial,
      escalationsPerAnswer: rates.perAnswer,
      escalationCapacity,
      expectedEscalations: expected,
      escalationLimit: Math.max(0, escalationLimit),
    };
  } else {
    capacityRaw = allocated * plan.ratio;
    modeBound = plan.predictive?.effectiveMode === 'predictive' ? 'predictive-rate' : 'representatives';
    safeLines = predictiveSafeCapacity(plan, allocated);
    if (safeLines !== undefined && safeLines > capacityRaw) {
      capacityRaw = safeLines;
      modeBound = 'predictive-safe-lines';
    }
  }
  const capacity = Math.floor(capacityRaw + 1e-9);
  const limit = Math.floor(capacityRaw * f + 1e-9);
  // Predictive counts late-ringing lines as part of a line (they rarely bring a customer); every other mode whole.
  const lines = plan.predictive?.effectiveMode === 'predictive' ? predictiveLinesInFlight(inFlight, plan.active.ringingSince, now.getTime()) : inFlight;
  const byLimit = Math.max(0, Math.floor(limit - lines + 1e-9));
  let dialNow = plan.blocked === undefined ? Math.min(byLimit, pending) : 0;
  let boundBy: BoundBy;
  if (plan.blocked !== undefined) boundBy = plan.blocked.boundBy;
  else if (pending < byLimit) boundBy = 'pending';
  else if (rules.binding !== undefined && Math.max(0, capacity - inFlight) > byLimit) boundBy = `rule:${rules.binding.kind}`;
  else boundBy = modeBound;
  dialNow = Math.max(0, dialNow);

  const status: PacingStatus = plan.blocked?.status ?? (f < 1 ? 'throttled' : 'running');
  const routing = routingEvaluation(plan.routing, plan.queue, reps.length, fromFallback, available);
  const reason = plan.blocked?.reason ?? rules.binding?.explanation ?? fallbackReason(plan.predictive) ?? routing.explanation;
  const effectiveMode = plan.predictive?.effectiveMode ?? mode.mode;
  return {
    engagementId: engagement.id,
    at: now.toISOString(),
    queue: plan.queue,
    mode: mode.mode,
    effectiveMode,
    status,
    ...(reason === undefined ? {} : { reason }),
    dialNow,
    reservedRepresentativeIds: mode.mode === 'preview' ? reps.slice(0, dialNow) : [],
    cancelQueuedDeliveries: status === 'stopped',
    boundBy,
    capacity,
    limit,
    inputs: {
      availableRepresentatives: freeInQueue,
      allocatedRepresentatives: allocated,
      staffedRepresentatives: staffedReps,
      inFlight,
      active: plan.active,
      pending,
      withinOperatingHours: plan.withinHours,
    },
    routing,
    rules: rules.evaluations,
    ...(plan.failurePolicy === undefined ? {} : { failurePolicy: plan.failurePolicy }),
    ...(plan.predictive === undefined ? {} : { predictive: safeLines === undefined ? plan.predictive : { ...plan.predictive, safeLines } }),
    ...(copilot === undefined ? {} : { copilot }),
  };
}

function nextState(previous: EngagementPacingState | undefined, plan: Plan, decision: PacingDecision, now: Date): EngagementPacingState {
  const at = now.toISOString();
  const changed = previous === undefined || previous.status !== decision.status;
  let predictive = previous?.predictive;
  if (plan.predictive !== undefined && plan.predictive.heldUntil === undefined) predictive = { rate: plan.predictive.rate, updatedAt: at };
  return {
    status: decision.status,
    statusSince: changed ? at : previous.statusSince,
    ...(decision.reason === undefined ? {} : { reason: decision.reason }),
    ...(plan.hold === undefined ? {} : { hold: plan.hold }),
    ...(previous?.countingSince === undefined ? {} : { countingSince: previous.countingSince }),
    ...(predictive === undefined ? {} : { predictive }),
    ...(previous?.lastUkDialAt === undefined ? {} : { lastUkDialAt: previous.lastUkDialAt }),
  };
}

/** Which queues served the engagement at this tick, and why, for the decision record. */
function routingEvaluation(
  routing: RoutingPlan,
  servedBy: string,
  allocated: number,
  fromFallback: number,
  available: ReadonlyMap<string, readonly string[]>,
): RoutingEvaluation {
  const fallback = routing.usable[1];
  const fromFirst = allocated - fromFallback;
  const queuesUsed = [...(fromFirst > 0 ? [servedBy] : []), ...(fromFallback > 0 && fallback !== undefined ? [fallback] : [])];
  const notes: string[] = routing.skipped.map((s) => `queue ${s.queue} ${s.reason}`);
  if (fromFallback > 0 && fallback !== undefined) {
    notes.push(`queue ${servedBy} had no capacity left for it: ${fromFallback} representative(s) from fallback queue ${fallback}`);
  } else if (servedBy !== routing.primaryQueue && fromFirst > 0) {
    notes.push(`served by fallback queue ${servedBy}`);
  }
  return {
    primaryQueue: routing.primaryQueue,
    ...(routing.fallbackQueue === undefined ? {} : { fallbackQueue: routing.fallbackQueue }),
    requiredSkills: routing.skills,
    usableQueues: routing.usable,
    queuesUsed,
    fromFallback,
    ...(fallback === undefined ? {} : { fallbackAvailable: available.get(fallback)?.length ?? 0 }),
    ...(notes.length === 0 ? {} : { explanation: notes.join('; ') }),
  };
}

/**
 * Representative-led predictive: the lines in flight the allocated free representatives take whatever
 * the rate says (see predictiveSafeLines), with the customers already waiting for one of them counted
 * whole. Undefined for other modes, AI-led engagements (their lines mix ringing calls and calls with the
 * agent, whose escalation odds differ) and the progressive fallback.
 */
function predictiveSafeCapacity(plan: Plan, allocated: number): number | undefined {
  const predictive = plan.predictive;
  if (predictive?.effectiveMode !== 'predictive' || plan.engagement.type === 'ai-led') return undefined;
  const waiting = plan.active.waitingForRepresentative;
  return waiting + predictiveSafeLines(allocated - waiting, predictive.warmUp ? null : predictive.successRate);
}

/** Copilot hand-offs expected from the calls already up. */
function expectedEscalations(active: ActiveCalls, rates: { perDial: number; perAnswer: number }): number {
  return active.waitingForRepresentative + active.withAgent * rates.perAnswer + active.ringing * rates.perDial;
}

function fallbackReason(predictive: PredictiveEvaluation | undefined): string | undefined {
  switch (predictive?.fallback) {
    case 'below-minimum-representatives':
      return `predictive needs 10 signed-in representatives (${predictive.staffedRepresentatives}): dialing progressively, one call per representative`;
    case 'exceeded-wait-near-threshold':
      return `exceeded-wait rate ${round(predictive.exceededWaitPercent ?? 0)}% is within 10% of the ${predictive.suspendThresholdPercent}% threshold: one call per representative`;
    default:
      return undefined;
  }
}

/** Ceiling that ignores floating-point dust (3.0000000001 is 3). */
function ceil(value: number): number {
  return Math.ceil(value - 1e-9);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

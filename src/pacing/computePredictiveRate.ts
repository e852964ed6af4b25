import { PREDICTIVE_MIN_REPRESENTATIVES, type EngagementConfig } from '../engagement/engagementSchema.js';
import type { OutcomeSummary } from './summarizeOutcomes.js';

/** Microsoft's rolling window for the live-answer and exceeded-wait rates. */
export const PREDICTIVE_ROLLING_MINUTES = 30 * 24 * 60;
/**
 * "Recent" for the wait and abandonment the scale reacts to. An hour holds ~900 live answers at 50
 * representatives: a 2.4% rate is ~20 events, few enough to follow change, many enough not to chase noise.
 */
export const PREDICTIVE_RECENT_MINUTES = 60;
/** The rate is re-proposed at most once per interval; ticks in between keep it. */
export const PREDICTIVE_INTERVAL_SECONDS = 30;
/** Dials before the rolling answer rate is trusted; until then one line per representative. */
export const PREDICTIVE_MIN_DIALED = 50;
/** Recent live answers (or escalations, AI-led) before the recent wait and abandonment move the scale. */
export const PREDICTIVE_MIN_RECENT_SAMPLE = 20;
export const PREDICTIVE_SCALE_MIN = 0.1;
export const PREDICTIVE_SCALE_MAX = 2.0;
/**
 * Gains of the abandonment terms (see {@link abandonmentScale}). Abandonment is a rare, bursty event:
 * one busy moment drops several customers at once and moves an hourly rate by a point. The recent term
 * therefore reacts gently both ways (chasing its noise cost occupancy in the benchmark), while the
 * compliance-window term, the one the rule and the regulator judge, backs off twice as hard.
 */
export const PREDICTIVE_GAIN_UP = 0.3;
export const PREDICTIVE_GAIN_DOWN = 0.25;
export const PREDICTIVE_COMPLIANCE_GAIN_DOWN = 0.5;
/**
 * Abandonments assumed to have happened already in the compliance window (with as many live answers):
 * about one burst. A new campaign reaches full pace only once ~120 live answers make that burst
 * affordable under the 2.4% target; with 1 the first burst of the day tripped the 3% rule in the
 * benchmark (5 abandoned of 157 answered), with 5 the ramp cost half a point of occupancy.
 */
export const PREDICTIVE_PRIOR_ABANDONED = 3;
/** Largest change of the rate from one interval to the next (Microsoft: +-35%). */
export const PREDICTIVE_MAX_CHANGE = 0.35;
/** Target = this share of the wait threshold (Microsoft: 0.8); also used for the abandonment target. */
export const PREDICTIVE_TARGET_SHARE = 0.8;
/** Short-circuit when the exceeded-wait rate is within 10% of the suspend threshold. */
export const PREDICTIVE_SHORT_CIRCUIT_SHARE = 0.9;
/** Without an average-wait-time rule: the FTC TSR 2 s. */
export const DEFAULT_WAIT_THRESHOLD_SECONDS = 2;
/** Without an abandonment-rate rule: the FTC TSR / Ofcom 3%. */
export const DEFAULT_ABANDONMENT_THRESHOLD_PERCENT = 3;
/**
 * A call still ringing this long after it was placed is rarely answered by a person: people answer in
 * the first rings (the simulator's live answers: 9 s median), while no-answers ring on to the 15 s+ the
 * FCC requires and answering machines are detected later. Microsoft's method counts every line in
 * flight against rate x available representatives; counting a late-ringing line as only
 * {@link PREDICTIVE_LATE_RING_WEIGHT} of a line lets pacing replace lines that will most likely not
 * bring a customer, instead of leaving a representative idle until they end. In the pacing benchmark
 * this took occupancy from 90.5% to 92.4% at 2.4% abandonment (50 representatives, seeds 1-10:
 * 92.1-92.7%); 15 s gave 91.8-92.3%, a weight of 0 pushed abandonment past 3% on some seeds.
 */
export const PREDICTIVE_LATE_RING_SECONDS = 13;
/** The share of a line a late-ringing call still counts for (a person may yet answer). */
export const PREDICTIVE_LATE_RING_WEIGHT = 0.2;

/**
 * Lines in flight as predictive pacing counts them: every call that counts against the dial mode's
 * limit, a late-ringing one at {@link PREDICTIVE_LATE_RING_WEIGHT}. Without ring times, every line counts whole.
 */
export function predictiveLinesInFlight(inFlight: number, ringingSince: readonly number[] | undefined, now: number): number {
  if (ringingSince === undefined) return inFlight;
  const late = ringingSince.filter((placedAt) => now - placedAt > PREDICTIVE_LATE_RING_SECONDS * 1000).length;
  return Math.max(0, inFlight - Math.min(late, inFlight) * (1 - PREDICTIVE_LATE_RING_WEIGHT));
}

/** Sanity cap on lines per available representative (an AI-led engagement that never escalates). */
export const PREDICTIVE_MAX_RATE = 30;

/**
 * Standard deviations of margin in {@link predictiveSafeLines}: the live answers of the lines in flight
 * outnumber the free representatives about 2.3% of the time (one-sided normal tail at 2). In the pacing
 * benchmark 1.5 gave the same seeds' mean and 1 let the first burst of the day pause a seed.
 */
export const PREDICTIVE_SAFE_LINES_Z = 2;

/**
 * The lines (ringing, as {@link predictiveLinesInFlight} counts them) that `freeRepresentatives` can take
 * whatever the rate says: the most lines L whose live answers, binomial with the live-answer rate p, stay
 * within the free representatives with a margin, p L + z sqrt(p (1 - p) L) <= free (normal approximation,
 * z = {@link PREDICTIVE_SAFE_LINES_Z}), never fewer than one line per free representative nor more than
 * {@link PREDICTIVE_MAX_RATE}. It counts no representative who may become free meanwhile, so dialing
 * within it can abandon a customer only when the answers land more than z standard deviations above
 * their mean: it is the idle-representative bound a predictive dialer dials to when many representatives
 * are free (the start of the day, after a pause or a lull), where the rate, learnt from the abandonment
 * of the last hour and the compliance window, is still low. Without a live-answer rate (warm-up) it is one line per free representative (progressive).
 */
export function predictiveSafeLines(freeRepresentatives: number, liveAnswerRate: number | null): number {
  const free = Math.max(0, freeRepresentatives);
  const p = liveAnswerRate;
  if (p === null || !(p > 0) || p >= 1) return free;
  // p x^2 + b x - free = 0 with x = sqrt(L), b = z sqrt(p (1 - p)).
  const b = PREDICTIVE_SAFE_LINES_Z * Math.sqrt(p * (1 - p));
  const x = (-b + Math.sqrt(b * b + 4 * p * free)) / (2 * p);
  return Math.min(PREDICTIVE_MAX_RATE * free, Math.max(free, x * x));
}

export type PredictiveFallback = 'below-minimum-representatives' | 'exceeded-wait-near-threshold';

/** Every figure the predictive rate was computed from, for the decision record. */
export interface PredictiveEvaluation {
  readonly effectiveMode: 'predictive' | 'progressive';
  readonly fallback?: PredictiveFallback;
  readonly staffedRepresentatives: number;
  /** Representative-led: live answers / dials; AI-led: escalations / dials (one "transfer" per dial). */
  readonly successRate: number | null;
  readonly successSample: number;
  /** 1 / successRate: dials needed per representative for one connected customer. */
  readonly baseRate: number;
  readonly warmUp: boolean;
  readonly targetWaitSeconds: number;
  readonly recentAverageWaitSeconds: number | null;
  readonly waitScale: number;
  readonly targetAbandonmentPercent: number;
  readonly recentAbandonmentPercent: number | null;
  /** (abandoned + 3) / (live answers + 3) over the compliance window, percent (see PREDICTIVE_PRIOR_ABANDONED). */
  readonly complianceAbandonmentPercent: number;
  readonly abandonmentScale: number;
  /**
   * Representative-led: the brake before Microsoft's short-circuit (see {@link exceededWaitScale}); 2.0
   * (no brake) while the rolling exceeded-wait rate is at or below the abandonment target.
   */
  readonly exceededWaitScale: number;
  /** min(waitScale, abandonmentScale, exceededWaitScale), bounded to 0.1..2.0. */
  readonly scale: number;
  readonly proposedRate: number;
  readonly previousRate: number;
  /** Lines per available representative for this interval. */
  readonly rate: number;
  readonly changeLimited: boolean;
  /** The rate was kept from the previous interval (next change not before this instant). */
  readonly heldUntil?: string;
  /**
   * Not dialing: the rate restarts at one line per representative, so a queue opening in the morning
   * (or a pause ending) ramps up again instead of dialing 5 lines for each of 50 idle representatives.
   */
  readonly rampRestarted?: true;
  readonly exceededWaitPercent: number | null;
  readonly suspendThresholdPercent: number;
  /**
   * Set by `decidePacing` (representative-led, predictive in effect): the lines in flight the allocated
   * free representatives take whatever the rate says ({@link predictiveSafeLines}, customers waiting
   * counted whole); the limit is the larger of this and rate x representatives.
   */
  readonly safeLines?: number;
}

export interface PredictiveInputs {
  readonly engagement: EngagementConfig;
  /** Rolling 30 days. This and the two below count calls answered and still up (withCallsInProgress). */
  readonly rolling: OutcomeSummary;
  /** The last {@link PREDICTIVE_RECENT_MINUTES}. */
  readonly recent: OutcomeSummary;
  /** The abandonment rule's window (else 30 days) since the last restart: what compliance is judged on. */
  readonly compliance: OutcomeSummary;
  /** Queue members signed in: the pool the minimum of 10 is about. */
  readonly staffedRepresentatives: number;
  readonly previous?: { readonly rate: number; readonly updatedAt: string };
  /** False while the engagement places no calls (paused, stopped, outside hours). */
  readonly dialing: boolean;
  readonly now: Date;
}

/**
 * Microsoft's predictive pacing, one step:
 * 1. short-circuit to one line per representative below 10 signed-in representatives, or (representative-led)
 *    when the rolling exceeded-wait rate is within 10% of the suspend threshold (the abandonment rule's,
 *    else 3%);
 * 2. base = 1 / rolling success rate (live answers per dial; AI-led: escalations per dial, i.e. dials
 *    needed for one transfer);
 * 3. target wait = 0.8 x the wait threshold (average-wait-time rule, else 2 s);
 * 4. wait scale = target / recent average wait, bounded to 0.1..2.0 (half the target doubles, twice
 *    the target halves); adjusted against the abandonment threshold (the rule's, else 3%) by the
 *    {@link abandonmentScale}, and (representative-led) braked before the short-circuit of step 1 by the
 *    {@link exceededWaitScale}; the smallest applies, bounded to 0.1..2.0;
 * 5. proposed = base x scale; the change from the previous interval's rate is limited to +-35%.
 * Dials now = rate x available representatives (representative-led: or the safe lines of those
 * representatives when more) - calls in flight (the caller, decidePacing, does that part).
 * The abandonment term is what holds a representative-led campaign under 3%: its waits are mostly a
 * fraction of a second (a free representative joins at once), so the wait scale sits at 2.0 until
 * customers are already being abandoned.
 * Every summary counts calls answered and still up (withCallsInProgress): outcome events arrive when
 * calls end, and without them the answer rate reads far too low (base far too high) and the
 * abandonment rate far too high for the first handle times of a campaign.
 */
export function computePredictiveRate(inputs: PredictiveInputs): PredictiveEvaluation {
  const { engagement, rolling, recent, now } = inputs;
  const aiLed = engagement.type === 'ai-led';
  const waitRule = engagement.rules.find((r) => r.kind === 'average-wait-time');
  const abandonRule = engagement.rules.find((r) => r.kind === 'abandonment-rate');
  const waitThreshold = waitRule?.threshold ?? DEFAULT_WAIT_THRESHOLD_SECONDS;
  const suspendThreshold = abandonRule?.threshold ?? DEFAULT_ABANDONMENT_THRESHOLD_PERCENT;
  const targetWait = PREDICTIVE_TARGET_SHARE * waitThreshold;
  const targetAbandon = PREDICTIVE_TARGET_SHARE * suspendThreshold;
  const previousRate = inputs.previous?.rate ?? 1;

  const successes = aiLed ? rolling.escalations : rolling.liveAnswers;
  const dials = rolling.dialed;
  const successRate = dials > 0 ? successes / dials : null;
  const warmUp = dials < PREDICTIVE_MIN_DIALED;
  let baseRate: number;
  if (warmUp) baseRate = 1;
  else if (successRate === null || successRate === 0) baseRate = PREDICTIVE_MAX_RATE;
  else baseRate = Math.min(PREDICTIVE_MAX_RATE, 1 / successRate);

  const recentSample = aiLed ? recent.escalations : recent.liveAnswers;
  const judged = recentSample >= PREDICTIVE_MIN_RECENT_SAMPLE;
  const recentWait = recent.averageWaitSeconds;
  const recentAbandon = recent.abandonmentRate === null ? null : recent.abandonmentRate * 100;
  const waitScale = judged && recentWait !== null ? clampScale(recentWait > 0 ? targetWait / recentWait : PREDICTIVE_SCALE_MAX) : 1;
  const { compliance } = inputs;
  const complianceAbandon = ((compliance.abandoned + PREDICTIVE_PRIOR_ABANDONED) / (compliance.liveAnswers + PREDICTIVE_PRIOR_ABANDONED)) * 100;
  const abandonment = abandonmentScale(targetAbandon, judged ? recentAbandon : null, complianceAbandon);
  const exceededWaitPercent = rolling.exceededWaitRate === null ? null : rolling.exceededWaitRate * 100;
  const exceededJudged = rolling.liveAnswers >= Math.ceil(100 / suspendThreshold);
  const exceededBrake = aiLed || !exceededJudged ? PREDICTIVE_SCALE_MAX : exceededWaitScale(targetAbandon, suspendThreshold, exceededWaitPercent);
  const scale = clampScale(Math.min(waitScale, abandonment, exceededBrake));
  const proposedRate = baseRate * scale;

  let fallback: PredictiveFallback | undefined;
  if (inputs.staffedRepresentatives < PREDICTIVE_MIN_REPRESENTATIVES) fallback = 'below-minimum-representatives';
  else if (!aiLed && exceededJudged && exceededWaitPercent !== null && exceededWaitPercent >= PREDICTIVE_SHORT_CIRCUIT_SHARE * suspendThreshold) {
    fallback = 'exceeded-wait-near-threshold';
  }

  const common = {
    staffedRepresentatives: inputs.staffedRepresentatives,
    successRate,
    successSample: dials,
    baseRate,
    warmUp,
    targetWaitSeconds: targetWait,
    recentAverageWaitSeconds: recentWait,
    waitScale,
    targetAbandonmentPercent: targetAbandon,
    recentAbandonmentPercent: recentAbandon,
    complianceAbandonmentPercent: complianceAbandon,
    abandonmentScale: abandonment,
    exceededWaitScale: exceededBrake,
    scale,
    proposedRate,
    previousRate,
    exceededWaitPercent,
    suspendThresholdPercent: suspendThreshold,
  };
  if (fallback !== undefined) {
    return { ...common, effectiveMode: 'progressive', fallback, rate: 1, changeLimited: false };
  }
  if (!inputs.dialing) return { ...common, effectiveMode: 'predictive', rate: 1, changeLimited: false, rampRestarted: true };
  if (inputs.previous !== undefined) {
    const nextChange = Date.parse(inputs.previous.updatedAt) + PREDICTIVE_INTERVAL_SECONDS * 1000;
    if (now.getTime() < nextChange) {
      return { ...common, effectiveMode: 'predictive', rate: previousRate, changeLimited: false, heldUntil: new Date(nextChange).toISOString() };
    }
  }
  const low = previousRate * (1 - PREDICTIVE_MAX_CHANGE);
  const high = previousRate * (1 + PREDICTIVE_MAX_CHANGE);
  const rate = Math.min(high, Math.max(low, proposedRate));
  return { ...common, effectiveMode: 'predictive', rate, changeLimited: rate !== proposedRate };
}

/**
 * The abandonment adjustment: for the recent rate and for the compliance window's smoothed rate,
 * 1 + gain x (target - measured) / target (gain 0.3 below the target, so at most 1.3 with no
 * abandonment; 0.25 above it for the recent rate, 0.5 for the compliance rate), the smaller of the
 * two, bounded to 0.1..2.0. A recent rate of `null` (too few live answers) does not move it.
 */
export function abandonmentScale(targetPercent: number, recentPercent: number | null, compliancePercent: number): number {
  const term = (measured: number, gainDown: number) => {
    const error = (targetPercent - measured) / targetPercent;
    return 1 + error * (error >= 0 ? PREDICTIVE_GAIN_UP : gainDown);
  };
  const recent = recentPercent === null ? PREDICTIVE_SCALE_MAX : term(recentPercent, PREDICTIVE_GAIN_DOWN);
  return clampScale(Math.min(recent, term(compliancePercent, PREDICTIVE_COMPLIANCE_GAIN_DOWN)));
}

/**
 * The brake before step 1's short-circuit. Microsoft's method drops to one line per representative when
 * the rolling exceeded-wait rate (representative-led: abandoned calls and waits over 2 s, per live answer)
 * reaches 0.9 x the suspend threshold (2.7% of 3%), and the rate then ramps up again from 1 at +35% per
 * interval: a cliff 0.3 points above the 2.4% the abandonment terms aim at, which one burst of
 * abandonment crosses while a day's window holds a few hundred live answers (in the benchmark it idled
 * representatives for up to 11 minutes, on 5 of 11 seeds with the safe lines alone). Between the target and the short-circuit
 * the scale falls linearly from 1 to 0, (short-circuit - measured) / (short-circuit - target), so the
 * rate backs off to what the free representatives take safely ({@link predictiveSafeLines}) before the
 * cliff instead of falling off it; at or below the target, or with no rate, it does not brake (2.0).
 */
export function exceededWaitScale(targetPercent: number, suspendThresholdPercent: number, exceededWaitPercent: number | null): number {
  const shortCircuit = PREDICTIVE_SHORT_CIRCUIT_SHARE * suspendThresholdPercent;
  if (exceededWaitPercent === null || exceededWaitPercent <= targetPercent || shortCircuit <= targetPercent) return PREDICTIVE_SCALE_MAX;
  return clampScale((shortCircuit - exceededWaitPercent) / (shortCircuit - targetPercent));
}

function clampScale(scale: number): number {
  return Math.min(PREDICTIVE_SCALE_MAX, Math.max(PREDICTIVE_SCALE_MIN, scale));
}

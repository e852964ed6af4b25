import type { EngagementConfig, PacingRule, RuleKind } from '../engagement/engagementSchema.js';
import type { ActiveCalls } from './activeCalls.js';
import { DEFAULT_ABANDONMENT_THRESHOLD_PERCENT } from './computePredictiveRate.js';
import type { OutcomeSummary } from './summarizeOutcomes.js';

/** Fewer waits than this make an average too noisy to throttle on. */
export const MIN_WAIT_SAMPLE = 5;

export type RuleEffect = 'none' | 'throttle' | 'pause' | 'pause-until-restart';

/** One rule's verdict, as the status API shows it. */
export interface RuleEvaluation {
  readonly kind: RuleKind;
  readonly unit: 'percent' | 'seconds' | 'count';
  readonly threshold: number;
  readonly windowMinutes: number;
  /** In the rule's unit; `null` when there is not enough data to judge. */
  readonly measured: number | null;
  /** What the measurement rests on: live answers, waits, staffed representatives (1 for counts). */
  readonly sample: number;
  readonly minimumSample: number;
  readonly breached: boolean;
  readonly decreaseByPercent: number;
  readonly effect: RuleEffect;
  readonly explanation: string;
  /**
   * `ofcom`: the UK regulator's view of an abandonment-rate rule (or of the default 3% limit), judged
   * over the last 24 hours whatever the rule's own window, for an engagement that calls UK numbers.
   */
  readonly regulation?: 'ofcom';
}

export interface RulesVerdict {
  readonly evaluations: readonly RuleEvaluation[];
  /** Multiplier for the mode's capacity: 1 - the largest breached decrease. 0 pauses. */
  readonly factor: number;
  /** The breached rule with the largest decrease, the one that bound the capacity. */
  readonly binding?: RuleEvaluation;
}

export interface RuleInputs {
  readonly engagement: EngagementConfig;
  /** This engagement's outcomes in the last `windowMinutes` (since its last restart). */
  readonly summarize: (windowMinutes: number) => OutcomeSummary;
  readonly active: ActiveCalls;
  /** Queue members signed in (available, on a call or wrapping up). */
  readonly staffedRepresentatives: number;
  /**
   * Set when the engagement calls UK (+44) numbers: its outcomes of the last 24 hours, not reset by a
   * restart (Ofcom judges a campaign's abandonment per 24 hours, whatever an operator did).
   */
  readonly ofcom24h?: OutcomeSummary;
}

/** Ofcom's period for the abandonment rate. */
export const OFCOM_WINDOW_MINUTES = 24 * 60;

/** Without an abandonment-rate rule, Ofcom's 3% limit pauses a UK engagement while it is reached. */
const OFCOM_DEFAULT_RULE: PacingRule = {
  kind: 'abandonment-rate',
  threshold: DEFAULT_ABANDONMENT_THRESHOLD_PERCENT,
  windowMinutes: OFCOM_WINDOW_MINUTES,
  decreaseByPercent: 100,
};

/**
 * Evaluates the engagement's rules. A rule is breached when its measurement reaches the threshold
 * (">=": at the threshold is already too much to keep pushing). Breached rules do not compound: the
 * largest decrease applies, so each decision names one binding rule and an operator can read why.
 * Rates need a minimum sample of ceil(100 / threshold) live answers, the point from which a single
 * event can no longer reach the threshold alone (34 for 3%).
 */
export function evaluateRules(inputs: RuleInputs): RulesVerdict {
  const evaluations = inputs.engagement.rules.map((rule) => evaluateRule(rule, inputs));
  if (inputs.ofcom24h !== undefined) evaluations.push(...ofcomEvaluations(inputs.engagement, inputs.ofcom24h));
  let binding: RuleEvaluation | undefined;
  for (const e of evaluations) {
    if (e.breached && (binding === undefined || e.decreaseByPercent > binding.decreaseByPercent)) binding = e;
  }
  const factor = binding === undefined ? 1 : Math.max(0, 1 - binding.decreaseByPercent / 100);
  return binding === undefined ? { evaluations, factor } : { evaluations, factor, binding };
}

function evaluateRule(rule: PacingRule, inputs: RuleInputs): RuleEvaluation {
  const measurement = measure(rule, inputs);
  const breached = measurement.measured !== null && measurement.sample >= measurement.minimumSample && measurement.measured >= rule.threshold;
  const effect = breached ? effectOf(rule, inputs.engagement) : 'none';
  return {
    kind: rule.kind,
    unit: measurement.unit,
    threshold: rule.threshold,
    windowMinutes: rule.windowMinutes,
    measured: measurement.measured,
    sample: measurement.sample,
    minimumSample: measurement.minimumSample,
    breached,
    decreaseByPercent: rule.decreaseByPercent,
    effect,
    explanation: explain(rule, measurement, breached, effect),
  };
}

/**
 * For an engagement calling UK numbers, each abandonment-rate rule (or the default 3% limit, pausing
 * while reached) is judged again over the last 24 hours. Both verdicts stand side by side and the
 * binding rule is the breached one with the largest decrease, so the stricter result applies.
 */
function ofcomEvaluations(engagement: EngagementConfig, summary: OutcomeSummary): RuleEvaluation[] {
  const own = engagement.rules.filter((rule) => rule.kind === 'abandonment-rate');
  return (own.length === 0 ? [OFCOM_DEFAULT_RULE] : own).map((rule) => {
    const measurement = abandonment(summary, rule.threshold);
    const breached = measurement.measured !== null && measurement.sample >= measurement.minimumSample && measurement.measured >= rule.threshold;
    // The default limit is not an operator's rule: it holds only while the 24-hour rate stays reached.
    const effect: RuleEffect = !breached ? 'none' : own.length === 0 ? 'pause' : effectOf(rule, engagement);
    const value = measurement.measured === null ? 'no data' : `${round(measurement.measured)}%`;
    const head = `Ofcom: abandonment over 24 h is ${value} (${measurement.detail}) vs threshold ${rule.threshold}%`;
    return {
      kind: rule.kind,
      unit: measurement.unit,
      threshold: rule.threshold,
      windowMinutes: OFCOM_WINDOW_MINUTES,
      measured: measurement.measured,
      sample: measurement.sample,
      minimumSample: measurement.minimumSample,
      breached,
      decreaseByPercent: rule.decreaseByPercent,
      effect,
      explanation: verdictText(head, measurement, breached, effect, rule.decreaseByPercent),
      regulation: 'ofcom',
    };
  });
}

function abandonment(s: OutcomeSummary, threshold: number): Measurement {
  return {
    unit: 'percent',
    measured: s.abandonmentRate === null ? null : s.abandonmentRate * 100,
    sample: s.liveAnswers,
    minimumSample: Math.ceil(100 / threshold),
    detail: `${s.abandoned} abandoned of ${s.liveAnswers} live answers`,
  };
}

/**
 * A 100% decrease pauses. Representative-led abandonment holds the pause until an operator restarts
 * the engagement (Microsoft: "pauses the engagement until restarted"); other rules pause only while
 * they stay breached (the schema's "until the rule clears").
 */
function effectOf(rule: PacingRule, engagement: EngagementConfig): RuleEffect {
  if (rule.decreaseByPercent < 100) return 'throttle';
  return rule.kind === 'abandonment-rate' && engagement.type === 'representative-led' ? 'pause-until-restart' : 'pause';
}

interface Measurement {
  readonly unit: RuleEvaluation['unit'];
  readonly measured: number | null;
  readonly sample: number;
  readonly minimumSample: number;
  readonly detail: string;
}

function measure(rule: PacingRule, inputs: RuleInputs): Measurement {
  switch (rule.kind) {
    case 'abandonment-rate':
      return abandonment(inputs.summarize(rule.windowMinutes), rule.threshold);
    case 'average-wait-time': {
      const s = inputs.summarize(rule.windowMinutes);
      return {
        unit: 'seconds',
        measured: s.averageWaitSeconds,
        sample: s.waits,
        minimumSample: MIN_WAIT_SAMPLE,
        detail: `over ${s.waits} waits`,
      };
    }
    case 'escalation-count': {
      const s = inputs.summarize(rule.windowMinutes);
      return { unit: 'count', measured: s.escalations, sample: 1, minimumSample: 0, detail: `${s.escalations} escalations` };
    }
    case 'open-concurrent-escalations': {
      // "Open" is D365's conversation state for waiting in queue: a count at this instant, so the
      // window does not apply.
      const open = inputs.active.waitingForRepresentative;
      return { unit: 'count', measured: open, sample: 1, minimumSample: 0, detail: `${open} escalations waiting for a representative now` };
    }
    case 'percentage-of-queue': {
      // The share of the queue's signed-in representatives busy on this engagement's calls right now.
      const staffed = inputs.staffedRepresentatives;
      const busy = inputs.active.withRepresentative;
      return {
        unit: 'percent',
        measured: staffed > 0 ? (busy / staffed) * 100 : null,
        sample: staffed,
        minimumSample: 1,
        detail: `${busy} of ${staffed} signed-in representatives on this engagement's calls`,
      };
    }
  }
}

function explain(rule: PacingRule, m: Measurement, breached: boolean, effect: RuleEffect): string {
  const unit = m.unit === 'percent' ? '%' : m.unit === 'seconds' ? ' s' : '';
  const value = m.measured === null ? 'no data' : `${round(m.measured)}${unit}`;
  const window = rule.kind === 'open-concurrent-escalations' || rule.kind === 'percentage-of-queue' ? 'now' : `in the last ${rule.windowMinutes} min`;
  const head = `${rule.kind} ${value} ${window} (${m.detail}) vs threshold ${rule.threshold}${unit}`;
  return verdictText(head, m, breached, effect, rule.decreaseByPercent);
}

function verdictText(head: string, m: Measurement, breached: boolean, effect: RuleEffect, decreaseByPercent: number): string {
  if (m.measured !== null && m.sample < m.minimumSample) return `${head}: not judged below a sample of ${m.minimumSample}`;
  if (!breached) return `${head}: within the threshold`;
  switch (effect) {
    case 'pause-until-restart':
      return `${head}: reached, engagement paused until an operator restarts it`;
    case 'pause':
      return `${head}: reached, engagement paused while the rule stays breached`;
    default:
      return `${head}: reached, concurrent calls decreased by ${decreaseByPercent}%`;
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

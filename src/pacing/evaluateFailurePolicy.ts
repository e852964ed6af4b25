import type { FailurePolicy } from '../engagement/engagementSchema.js';
import type { OutcomeSummary } from './summarizeOutcomes.js';

export interface FailurePolicyEvaluation {
  readonly action: FailurePolicy['action'];
  readonly botFailures: number;
  /** Calls the AI agent took (live answers of an AI-led engagement). */
  readonly agentHandled: number;
  /** Percent; `null` before the first agent-handled call. */
  readonly failureRatePercent: number | null;
  readonly thresholdPercent: number | null;
  readonly minimumSample: number;
  readonly tripped: boolean;
  readonly explanation: string;
}

/**
 * The AI agent failure policy over the engagement's outcomes since it (re)started.
 * - `stop`: the first BotFailed stops the engagement.
 * - `continue-until N%`: stops when BotFailed / agent-handled calls reaches N%, judged only from
 *   ceil(100 / N) agent-handled calls on, the first sample where one failure alone is below N%.
 *   Without it one early failure (1 of 1 = 100%) would stop a campaign that allows 5%.
 */
export function evaluateFailurePolicy(policy: FailurePolicy, summary: OutcomeSummary): FailurePolicyEvaluation {
  const failures = summary.botFailures;
  const handled = summary.liveAnswers;
  const ratePercent = handled > 0 ? (failures / handled) * 100 : null;
  if (policy.action === 'stop') {
    const tripped = failures > 0;
    return {
      action: 'stop',
      botFailures: failures,
      agentHandled: handled,
      failureRatePercent: ratePercent,
      thresholdPercent: null,
      minimumSample: 0,
      tripped,
      explanation: tripped
        ? `the AI agent failed on ${failures} call(s) and the policy is to stop at the first failure`
        : 'no AI agent failure since the engagement started',
    };
  }
  const threshold = policy.failureRatePercent;
  const minimumSample = Math.ceil(100 / threshold);
  const tripped = ratePercent !== null && handled >= minimumSample && ratePercent >= threshold;
  const rate = ratePercent === null ? 'no calls yet' : `${Math.round(ratePercent * 100) / 100}%`;
  const head = `AI agent failure rate ${rate} (${failures} of ${handled} calls) vs ${threshold}%`;
  let explanation: string;
  if (tripped) explanation = `${head}: reached, engagement stopped`;
  else if (handled < minimumSample) explanation = `${head}: not judged before ${minimumSample} agent-handled calls`;
  else explanation = `${head}: within the limit`;
  return {
    action: 'continue-until',
    botFailures: failures,
    agentHandled: handled,
    failureRatePercent: ratePercent,
    thresholdPercent: threshold,
    minimumSample,
    tripped,
    explanation,
  };
}

import { z } from 'zod';
import { UserError, toFieldIssues } from '../../errors.js';

/** A positive duration in seconds, log-normal around `mean` (sigma 0 = always the mean). */
const durationSchema = z.strictObject({
  mean: z.number().positive(),
  sigma: z.number().min(0).max(3).default(0.5),
});
export type Duration = z.infer<typeof durationSchema>;

const share = z.number().min(0).max(1);

/**
 * How the simulated population answers and behaves. Shares are of placed calls; "no answer" is what
 * the other shares leave. Defaults model a consumer list: 20% live answer, 3-minute handling.
 */
export const callProfileSchema = z
  .strictObject({
    liveAnswer: share.default(0.2),
    answeringMachine: share.default(0.12),
    busy: share.default(0.05),
    invalidAddress: share.default(0.02),
    callFailed: share.default(0.01),
    /** Ring until a person answers. */
    liveRingSeconds: durationSchema.default({ mean: 9, sigma: 0.4 }),
    /** Ring until the dialer gives up (at least 15 s / 4 rings under the FCC rule). */
    noAnswerRingSeconds: durationSchema.default({ mean: 25, sigma: 0.1 }),
    /** Ring, greeting and detection until an answering machine is recognised. */
    machineSeconds: durationSchema.default({ mean: 14, sigma: 0.3 }),
    /** Busy, invalid number and network failure come back quickly. */
    rejectSeconds: durationSchema.default({ mean: 3, sigma: 0.5 }),
    /** Talk plus wrap-up: how long a representative is busy with a connected call. */
    handleSeconds: durationSchema.default({ mean: 180, sigma: 0.5 }),
    /** Bridging a free representative (or the AI agent) to an answered call. */
    connectSeconds: z.number().min(0).max(2).default(0.3),
    /**
     * Representative-led: an answered call nobody joined this long is released with the recorded
     * information message and reported Abandoned (FTC TSR safe harbour: 2 s). `null` holds the
     * customer in queue until their patience runs out instead.
     */
    abandonAfterSeconds: z.number().positive().nullable().default(2),
    /** How long a customer waits for a representative before hanging up. */
    patienceSeconds: durationSchema.default({ mean: 40, sigma: 0.8 }),
    /** AI-led: the agent's part of the call (right-party check, purpose, disposition). */
    agentLegSeconds: durationSchema.default({ mean: 60, sigma: 0.5 }),
    /** AI-led: share of agent-handled calls the agent hands to a representative. */
    escalation: share.default(0.3),
    /** AI-led: share of agent-handled calls on which the agent fails (BotFailed). */
    botFailure: share.default(0.002),
    /** Between accepting a dial request and placing the call: the window `cancel()` acts in. */
    placementDelaySeconds: z.number().min(0).max(60).default(0.5),
  })
  .superRefine((p, ctx) => {
    const total = p.liveAnswer + p.answeringMachine + p.busy + p.invalidAddress + p.callFailed;
    if (total > 1 + 1e-9) {
      ctx.addIssue({
        code: 'custom',
        path: ['liveAnswer'],
        message: `liveAnswer + answeringMachine + busy + invalidAddress + callFailed must be at most 1 (got ${total.toFixed(3)}); no answer is the rest`,
      });
    }
  });
export type CallProfile = z.infer<typeof callProfileSchema>;
export type CallProfileInput = z.input<typeof callProfileSchema>;

export function parseCallProfile(value: unknown): CallProfile {
  const result = callProfileSchema.safeParse(value ?? {});
  if (!result.success) {
    const issues = toFieldIssues(result.error, 'simulator.profile');
    throw new UserError('InvalidSettings', `simulator profile is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return result.data;
}

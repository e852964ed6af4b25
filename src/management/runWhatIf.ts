import { z } from 'zod';
import type { CallEvent } from '../contacts/callEvent.js';
import type { DialRequest } from '../dialers/dialerPort.js';
import { TelephonySimulator } from '../dialers/simulator/telephonySimulator.js';
import { VirtualClock } from '../dialers/simulator/virtualClock.js';
import { engagementSchema, queueSchema, type EngagementConfig, type QueueConfig } from '../engagement/engagementSchema.js';
import { toFieldIssues, UserError, type FieldIssue } from '../errors.js';
import { callsInFlight } from '../pacing/activeCalls.js';
import { decidePacing } from '../pacing/decidePacing.js';
import { OutcomeLog } from '../pacing/outcomeLog.js';
import { emptyPacingState, type PacingState } from '../pacing/pacingState.js';

/** Virtual seconds between pacing decisions (the bench's tick). */
const TICK_MS = 2_000;
/** A what-if stops here if the list is not finished: a projection, not a week of simulation. */
export const WHAT_IF_HORIZON_HOURS = 12;
const QUEUE = 'what-if';
const SEED = 20_261_129;

/** The editable call profile of one what-if run. Limits keep one run to a few seconds of CPU. */
export const whatIfProfileSchema = z.strictObject({
  representatives: z.int().min(1).max(500),
  /** Share of placed calls a person answers (the rest: machines, busy, failures as the simulator's defaults, and no answer). */
  liveAnswerRate: z.number().min(0.01).max(0.8),
  /** Talk plus wrap-up, mean seconds. */
  handleSeconds: z.number().min(10).max(3_600),
  listSize: z.int().min(1).max(20_000),
});
export type WhatIfProfile = z.infer<typeof whatIfProfileSchema>;

/** One side of the comparison: the engagement's own settings, with the dial mode and rules optionally replaced. */
export const whatIfScenarioSchema = z.strictObject({
  label: z.string().min(1).max(80),
  dialMode: z.record(z.string(), z.unknown()).optional(),
  rules: z.array(z.record(z.string(), z.unknown())).max(10).optional(),
  profile: whatIfProfileSchema,
});
export type WhatIfScenario = z.infer<typeof whatIfScenarioSchema>;

export const whatIfRequestSchema = z.strictObject({ scenarios: z.array(whatIfScenarioSchema).min(1).max(2) });

export interface WhatIfFigures {
  readonly label: string;
  readonly dialMode: string;
  /** Talk and wrap-up time over staffed time, until the list finished (or the horizon). */
  readonly occupancy: number;
  /** Abandoned over live answers, percent; null without live answers. */
  readonly abandonmentPercent: number | null;
  readonly averageWaitSeconds: number | null;
  readonly dials: number;
  readonly liveAnswers: number;
  readonly connected: number;
  /** Virtual seconds until every contact was dialed and every call ended; null when the horizon came first. */
  readonly finishedSeconds: number | null;
  readonly contactsLeft: number;
  readonly finalStatus: string;
  /** The limit that bound the dial count on most ticks. */
  readonly mostlyBoundBy: string;
}

/**
 * The engagement's settings with a scenario's overrides, validated as an engagement file entry would
 * be (a dial mode the type does not allow, a rule the mode does not list: field issues under
 * `scenarios[i]`).
 */
export function scenarioEngagement(engagement: EngagementConfig, scenario: WhatIfScenario, index: number): EngagementConfig {
  const candidate = {
    ...engagement,
    id: 'what-if',
    routing: { ...engagement.routing, primaryQueue: QUEUE, fallbackQueue: undefined },
    operatingHours: { ...engagement.operatingHours },
    paused: false,
    ...(scenario.dialMode === undefined ? {} : { dialMode: scenario.dialMode }),
    ...(scenario.rules === undefined ? {} : { rules: scenario.rules }),
  };
  const parsed = engagementSchema.safeParse(candidate);
  if (!parsed.success) {
    const issues: FieldIssue[] = toFieldIssues(parsed.error, `scenarios[${index}]`);
    throw new UserError('InvalidRequest', `scenario "${scenario.label}" is not a valid engagement setting`, issues);
  }
  return parsed.data;
}

function whatIfQueue(representatives: number): QueueConfig {
  const allDay = [{ start: '00:00', end: '24:00' }];
  return queueSchema.parse({
    name: QUEUE,
    operatingHours: {
      timeZone: 'UTC',
      days: { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay },
    },
    representatives: Array.from({ length: representatives }, (_, i) => ({ userId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}` })),
  });
}

function request(index: number, engagementId: string, representativeId: string | undefined): DialRequest {
  const id = `w${String(index).padStart(6, '0')}`;
  return {
    deliveryId: `what-if-${id}`,
    attempt: 1,
    engagementId,
    priority: 1,
    contact: { contactId: id, phones: [{ type: 'mobile', e164: `+1555${String(index).padStart(7, '0')}` }], timeZone: 'UTC', attributes: {}, windows: [] },
    ...(representativeId === undefined ? {} : { representativeId }),
  };
}

/**
 * Runs one scenario through `decidePacing` and the telephony simulator on a virtual clock from `start`,
 * every 2 virtual seconds, until the list is dialed and its calls have ended (or 12 virtual hours).
 * The queue is open around the clock and staffed by `representatives`: the what-if is about pacing,
 * not hours. Seeded, so the same inputs give the same figures.
 */
export async function runWhatIf(engagement: EngagementConfig, label: string, profile: WhatIfProfile, start: number): Promise<WhatIfFigures> {
  const clock = new VirtualClock(start);
  const queue = whatIfQueue(profile.representatives);
  const sim = new TelephonySimulator({
    seed: SEED,
    clock,
    engagements: [engagement],
    queues: [queue],
    profile: { liveAnswer: profile.liveAnswerRate, handleSeconds: { mean: profile.handleSeconds, sigma: 0.5 } },
  });
  const log = new OutcomeLog();
  const events: CallEvent[] = [];
  sim.onCallEvent((e) => {
    log.append(e);
    events.push(e);
  });
  const queues = new Map([[QUEUE, queue]]);
  const end = start + WHAT_IF_HORIZON_HOURS * 3_600_000;
  const bounds = new Map<string, number>();
  let state: PacingState = emptyPacingState();
  let next = 0;
  let status = 'running';
  let finishedAt: number | undefined;
  try {
    while (clock.now() < end) {
      const active = sim.activeCalls(engagement.id);
      if (next >= profile.listSize && callsInFlight(engagement, active) + active.withRepresentative === 0) {
        finishedAt = clock.now();
        break;
      }
      const result = decidePacing({
        now: new Date(clock.now()),
        engagements: [engagement],
        queues,
        availableRepresentatives: new Map([[QUEUE, sim.availableRepresentatives(QUEUE)]]),
        staffedRepresentatives: new Map([[QUEUE, sim.staffedRepresentatives(QUEUE)]]),
        active: new Map([[engagement.id, active]]),
        outcomes: new Map([[engagement.id, log]]),
        pending: new Map([[engagement.id, profile.listSize - next]]),
        state,
      });
      state = result.state;
      const decision = result.decisions[0];
      if (decision !== undefined) {
        status = decision.status;
        bounds.set(decision.boundBy, (bounds.get(decision.boundBy) ?? 0) + 1);
        const held = decision.boundBy === 'stopped' || decision.boundBy === 'paused-until-restart';
        // Held until an operator acts and nothing left in flight: the projection ends here.
        if (held && callsInFlight(engagement, active) + active.withRepresentative === 0) break;
        const requests: DialRequest[] = [];
        for (let i = 0; i < decision.dialNow && next < profile.listSize; i++)
          requests.push(request(next++, engagement.id, decision.reservedRepresentativeIds[i]));
        if (requests.length > 0) await sim.dial(requests);
      }
      clock.advanceBy(TICK_MS);
    }
    const until = finishedAt ?? clock.now();
    const stats = sim.representativeStats();
    let live = 0;
    let abandoned = 0;
    let connected = 0;
    let dials = 0;
    let waitSum = 0;
    let waits = 0;
    for (const e of events) {
      if (e.result !== 'Cancelled') dials++;
      if (e.result === 'LiveAnswer' || e.result === 'Abandoned' || e.result === 'BotFailed') live++;
      if (e.result === 'Abandoned') abandoned++;
      if (e.result === 'LiveAnswer' && e.representativeId !== undefined) connected++;
      if (e.waitSeconds !== undefined) {
        waitSum += e.waitSeconds;
        waits++;
      }
    }
    const elapsed = Math.max(1, until - start);
    return {
      label,
      dialMode: engagement.dialMode.mode,
      occupancy: stats.busyMs / (stats.representatives * elapsed),
      abandonmentPercent: live > 0 ? (abandoned / live) * 100 : null,
      averageWaitSeconds: waits > 0 ? waitSum / waits : null,
      dials,
      liveAnswers: live,
      connected,
      finishedSeconds: finishedAt === undefined ? null : Math.round((finishedAt - start) / 1000),
      contactsLeft: profile.listSize - next,
      finalStatus: status,
      mostlyBoundBy: [...bounds.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none',
    };
  } finally {
    sim.close();
  }
}

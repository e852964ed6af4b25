import type { CallEvent } from '../contacts/callEvent.js';
import type { DialerPort } from '../dialers/dialerPort.js';
import type { EngagementConfig } from '../engagement/engagementSchema.js';
import { isCallableNow } from '../pacing/isCallableNow.js';
import type { PacingDecision } from '../pacing/pacingDecision.js';
import { ownEntry } from '../pacing/pacingState.js';
import { summarizeOutcomes, type OutcomeSummary } from '../pacing/summarizeOutcomes.js';
import type { DeliveryStore } from '../store/dispatch/deliveryStore.js';
import type { OutcomeStore } from '../store/dispatch/outcomeStore.js';
import type { PacingStateStore } from '../store/dispatch/pacingStateStore.js';
import type { JourneyOutboxStore, OutboxSummary } from '../store/journeyOutcomes/journeyOutboxStore.js';
import type { ExportProgress, ExportProgressStore } from '../store/segmentExports/exportProgressStore.js';

export interface StatusDeps {
  readonly deliveries: DeliveryStore;
  readonly outcomes: OutcomeStore;
  readonly stateStore: PacingStateStore;
  /** The back-end, when it can say it is throttled (Dynamics 365 service protection). */
  readonly dialer?: Pick<DialerPort, 'name' | 'throttledUntil'>;
  /** Segment export files and their progress (Customer Insights engagements). */
  readonly exportProgress?: Pick<ExportProgressStore, 'byEngagement'>;
  /** Outcomes queued for the journey custom trigger. */
  readonly journeyOutbox?: Pick<JourneyOutboxStore, 'summary'>;
}

/** Queued deliveries counted exactly up to this; beyond it the count says "at least". */
const COUNT_LIMIT = 10_000;

export interface EngagementStatus {
  readonly engagementId: string;
  readonly name: string;
  readonly type: EngagementConfig['type'];
  readonly dialMode: EngagementConfig['dialMode']['mode'];
  readonly priority: EngagementConfig['priority'];
  readonly state: { readonly status: string; readonly reason: string | null; readonly since: string | null };
  readonly counts: {
    readonly queued: number;
    readonly queuedAtLeast: boolean;
    readonly callableNow: number;
    readonly inFlight: { readonly dialing: number; readonly submitted: number };
    readonly resultsLast24h: Readonly<Record<string, number>>;
  };
  readonly rates: { readonly lastHour: OutcomeSummary; readonly last24h: OutcomeSummary };
  /** Representatives on this engagement's calls over those staffed, at the last decision. */
  readonly occupancy: number | null;
  readonly recentDecisions: readonly PacingDecision[];
  /** The back-end asked to be left alone: no calls are handed over before `until`. */
  readonly throttle: { readonly until: string; readonly message: string } | null;
  /** Present when the engagement takes segment exports: the latest files, with progress, skips and bad rows. */
  readonly segmentExports?: readonly Omit<ExportProgress, 'etag' | 'engagementId'>[];
  /** Present when the engagement fires a journey trigger: outcomes pending, sent and failed. */
  readonly journeyOutcomes?: OutboxSummary;
}

/** Everything an operator needs about one engagement, read from the stores (no in-memory state). */
export async function describeEngagementStatus(deps: StatusDeps, engagement: EngagementConfig, now: number): Promise<EngagementStatus> {
  const [queued, inFlight, events, stored, decisions, throttledUntil] = await Promise.all([
    deps.deliveries.queued(engagement.id, COUNT_LIMIT),
    deps.deliveries.inFlight(engagement.id),
    deps.outcomes.since(engagement.id, now - 24 * 3_600_000).then((page) => page.events),
    deps.stateStore.load(),
    deps.stateStore.decisions(engagement.id),
    deps.dialer?.throttledUntil?.(now),
  ]);
  const ci = engagement.customerInsights;
  const [exportFiles, journeyOutcomes] = await Promise.all([
    ci?.exports === undefined ? undefined : deps.exportProgress?.byEngagement(engagement.id),
    ci?.journeyTrigger === undefined ? undefined : deps.journeyOutbox?.summary(engagement.id),
  ]);
  const at = new Date(now);
  const own = ownEntry(stored.state.engagements, engagement.id);
  const last = decisions[0];
  return {
    engagementId: engagement.id,
    name: engagement.name,
    type: engagement.type,
    dialMode: engagement.dialMode.mode,
    priority: engagement.priority,
    state: {
      status: own?.hold?.status ?? own?.status ?? (engagement.paused ? 'paused' : 'running'),
      reason: own?.hold?.reason ?? own?.reason ?? null,
      since: own?.hold?.since ?? own?.statusSince ?? null,
    },
    counts: {
      queued: queued.length,
      queuedAtLeast: queued.length >= COUNT_LIMIT,
      callableNow: queued.filter((row) => row.notBefore <= now && isCallableNow(row.windows, at)).length,
      inFlight: { dialing: inFlight.filter((r) => r.state === 'dialing').length, submitted: inFlight.filter((r) => r.state === 'submitted').length },
      resultsLast24h: countResults(events),
    },
    rates: { lastHour: summarizeOutcomes(events, at, 60), last24h: summarizeOutcomes(events, at, 24 * 60) },
    occupancy:
      last === undefined || last.inputs.staffedRepresentatives === 0 ? null : last.inputs.active.withRepresentative / last.inputs.staffedRepresentatives,
    recentDecisions: decisions,
    throttle:
      throttledUntil === undefined
        ? null
        : {
            until: new Date(throttledUntil).toISOString(),
            message: `throttled by ${deps.dialer?.name === 'dynamics365' ? 'Dynamics 365' : (deps.dialer?.name ?? 'the back-end')} until ${new Date(throttledUntil).toISOString()}`,
          },
    ...(exportFiles === undefined ? {} : { segmentExports: exportFiles.map(({ etag: _etag, engagementId: _id, ...file }) => file) }),
    ...(journeyOutcomes === undefined ? {} : { journeyOutcomes }),
  };
}

function countResults(events: readonly CallEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) counts[e.result] = (counts[e.result] ?? 0) + 1;
  return counts;
}

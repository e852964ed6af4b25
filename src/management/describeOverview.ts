import { PRIORITY_RANK, type EngagementConfig } from '../engagement/engagementSchema.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import { ownEntry, type PacingState } from '../pacing/pacingState.js';
import type { EngagementStatus } from '../dispatch/engagementStatus.js';

/** One engagement in the overview: its status without the decision log (the detail view has it). */
export type EngagementSummary = Omit<EngagementStatus, 'recentDecisions'> & { readonly queue: string };

export interface QueueShare {
  readonly queue: string;
  /** Engagements routed to the queue, highest priority first. */
  readonly engagements: readonly { readonly engagementId: string; readonly priority: EngagementConfig['priority']; readonly status: string }[];
  /** The engagement served first at the next tick, or null when none of them is dialing. */
  readonly winner: string | null;
  readonly why: string;
}

export interface Overview {
  readonly at: string;
  readonly engagements: readonly EngagementSummary[];
  readonly queues: readonly QueueShare[];
}

const DIALING: ReadonlySet<string> = new Set(['running', 'throttled']);

/**
 * Which engagement wins each shared queue: the highest priority among those dialing; between equal
 * priorities, the one pacing's round-robin cursor serves first at the next tick (the first configured
 * when the cursor has not been set yet).
 */
export function queueShares(catalog: EngagementCatalog, statuses: ReadonlyMap<string, string>, state: PacingState): QueueShare[] {
  const byQueue = new Map<string, EngagementConfig[]>();
  for (const e of catalog.engagements.values()) {
    const list = byQueue.get(e.routing.primaryQueue) ?? [];
    list.push(e);
    byQueue.set(e.routing.primaryQueue, list);
  }
  return [...byQueue.entries()].map(([queue, list]) => {
    const sorted = [...list].sort((a, b) => PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority]);
    const engagements = sorted.map((e) => ({ engagementId: e.id, priority: e.priority, status: statuses.get(e.id) ?? 'running' }));
    const dialing = sorted.filter((e) => DIALING.has(statuses.get(e.id) ?? 'running'));
    const top = dialing[0];
    if (top === undefined) return { queue, engagements, winner: null, why: 'no engagement on this queue is dialing' };
    const tied = dialing.filter((e) => e.priority === top.priority);
    if (tied.length === 1) {
      const why = sorted.length === 1 ? 'the only engagement on this queue' : `highest priority dialing (${top.priority})`;
      return { queue, engagements, winner: top.id, why };
    }
    const cursor = ownEntry(ownEntry(state.cursors, queue) ?? {}, String(PRIORITY_RANK[top.priority]));
    const first = tied.find((e) => e.id === cursor) ?? top;
    return { queue, engagements, winner: first.id, why: `${tied.length} engagements share priority ${top.priority}: they take turns, ${first.id} is next` };
  });
}

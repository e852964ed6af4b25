import type { PacingState } from './pacingState.js';
import { ownEntry, setOwn } from './pacingState.js';

/** What one engagement asks of its queue's free representatives at this tick. */
export interface RepresentativeDemand {
  readonly engagementId: string;
  readonly queue: string;
  /** PRIORITY_RANK of the engagement: higher is served first. */
  readonly rank: number;
  /** Representatives already spoken for by the engagement's calls in flight. */
  readonly committed: number;
  /** Further representatives it could use for new dials. */
  readonly wanted: number;
}

export interface Allocation {
  /** Representative ids dealt to each engagement (committed ones first). */
  readonly byEngagement: ReadonlyMap<string, readonly string[]>;
  readonly cursors: PacingState['cursors'];
}

/**
 * Shares each queue's free representatives between the engagements dialing into it.
 * Two passes, each from the highest priority down: first the representatives that calls already in
 * flight will need (a call dialed for a representative keeps them), then the new demand. Within one
 * priority representatives are dealt one at a time in turn (round-robin), starting from the engagement
 * the queue's cursor names; the cursor then moves past the last engagement served, so over ticks equal
 * engagements take turns even when only one representative frees up per tick. A lower priority only
 * gets what the higher ones leave.
 */
export function allocateRepresentatives(
  available: ReadonlyMap<string, readonly string[]>,
  demands: readonly RepresentativeDemand[],
  cursors: PacingState['cursors'],
): Allocation {
  const byEngagement = new Map<string, string[]>();
  const nextCursors: Record<string, Record<string, string>> = {};
  for (const [queue, value] of Object.entries(cursors)) setOwn(nextCursors, queue, { ...value });

  const queues = [...new Set(demands.map((d) => d.queue))].sort();
  for (const queue of queues) {
    const free = [...(available.get(queue) ?? [])];
    const onQueue = demands.filter((d) => d.queue === queue);
    const ranks = [...new Set(onQueue.map((d) => d.rank))].sort((a, b) => b - a);
    const queueCursors: Record<string, string> = { ...(ownEntry(nextCursors, queue) ?? {}) };
    const ordered = new Map<number, RepresentativeDemand[]>();
    for (const rank of ranks) {
      ordered.set(
        rank,
        rotate(
          onQueue.filter((d) => d.rank === rank),
          ownEntry(queueCursors, String(rank)),
        ),
      );
    }
    const take = (engagementId: string) => {
      const rep = free.shift();
      if (rep === undefined) return false;
      const list = byEngagement.get(engagementId) ?? [];
      list.push(rep);
      byEngagement.set(engagementId, list);
      return true;
    };
    for (const pass of ['committed', 'wanted'] as const) {
      for (const rank of ranks) {
        const group = ordered.get(rank) ?? [];
        const left = new Map(group.map((d) => [d.engagementId, Math.max(0, Math.floor(pass === 'committed' ? d.committed : d.wanted))]));
        let lastServed: number | undefined;
        let progress = true;
        while (progress && free.length > 0) {
          progress = false;
          for (let i = 0; i < group.length && free.length > 0; i++) {
            const d = group[i];
            if (d === undefined) continue;
            const n = left.get(d.engagementId) ?? 0;
            if (n <= 0) continue;
            take(d.engagementId);
            left.set(d.engagementId, n - 1);
            lastServed = i;
            progress = true;
          }
        }
        if (pass === 'wanted' && lastServed !== undefined && group.length > 1) {
          const next = group[(lastServed + 1) % group.length];
          if (next !== undefined) setOwn(queueCursors, String(rank), next.engagementId);
        }
      }
    }
    if (Object.keys(queueCursors).length > 0) setOwn(nextCursors, queue, queueCursors);
  }
  for (const d of demands) if (!byEngagement.has(d.engagementId)) byEngagement.set(d.engagementId, []);
  return { byEngagement, cursors: nextCursors };
}

/** Equal-priority engagements in id order, starting at the cursor (or the next id after it, if it left). */
function rotate(group: readonly RepresentativeDemand[], cursor: string | undefined): RepresentativeDemand[] {
  const sorted = [...group].sort((a, b) => (a.engagementId < b.engagementId ? -1 : a.engagementId > b.engagementId ? 1 : 0));
  if (cursor === undefined) return sorted;
  const start = sorted.findIndex((d) => d.engagementId >= cursor);
  return start <= 0 ? sorted : [...sorted.slice(start), ...sorted.slice(0, start)];
}

import type { PacingState } from './pacingState.js';
import { ownEntry, setOwn } from './pacingState.js';

/** What one engagement asks of its queue's free representatives at this tick. */
export interface RepresentativeDemand {
  readonly engagementId: string;
  /** The queue served from first: the primary queue, or the fallback when the primary cannot serve (skills). */
  readonly queue: string;
  /** Drawn from for the new demand its first queue could not meet (no capacity left there). */
  readonly fallbackQueue?: string;
  /** PRIORITY_RANK of the engagement: higher is served first. */
  readonly rank: number;
  /** Representatives already spoken for by the engagement's calls in flight. */
  readonly committed: number;
  /** Further representatives it could use for new dials. */
  readonly wanted: number;
}

export interface Allocation {
  /** Representative ids dealt to each engagement (committed ones first, then its first queue's, then the fallback's). */
  readonly byEngagement: ReadonlyMap<string, readonly string[]>;
  /** Of those, the ones dealt from the engagement's fallback queue (empty when none). */
  readonly fromFallback: ReadonlyMap<string, readonly string[]>;
  readonly cursors: PacingState['cursors'];
}

type Pass = 'committed' | 'wanted';

/**
 * Shares each queue's free representatives between the engagements dialing into it.
 * Two passes, each from the highest priority down: first the representatives that calls already in
 * flight will need (a call dialed for a representative keeps them), then the new demand. Within one
 * priority representatives are dealt one at a time in turn (round-robin), starting from the engagement
 * the queue's cursor names; the cursor then moves past the last engagement served, so over ticks equal
 * engagements take turns even when only one representative frees up per tick. A lower priority only
 * gets what the higher ones leave.
 *
 * Then fallback queues: what an engagement still wants after its first queue is dealt from its fallback
 * queue's representatives left over once that queue's own engagements were served (a queue serves the
 * engagements whose first queue it is before any that falls back to it), by the same priority and
 * round-robin rules. A representative who is a member of several queues is dealt once.
 */
export function allocateRepresentatives(
  available: ReadonlyMap<string, readonly string[]>,
  demands: readonly RepresentativeDemand[],
  cursors: PacingState['cursors'],
): Allocation {
  const byEngagement = new Map<string, string[]>();
  const fromFallback = new Map<string, string[]>();
  const dealt = new Set<string>();
  const nextCursors: Record<string, Record<string, string>> = {};
  for (const [queue, value] of Object.entries(cursors)) setOwn(nextCursors, queue, { ...value });
  const wantedLeft = new Map(demands.map((d) => [d.engagementId, whole(d.wanted)]));

  const deal = (queue: string, onQueue: readonly RepresentativeDemand[], passes: readonly Pass[], cursorPrefix: string, fallback: boolean) => {
    const free = (available.get(queue) ?? []).filter((id) => !dealt.has(id));
    const ranks = [...new Set(onQueue.map((d) => d.rank))].sort((a, b) => b - a);
    const queueCursors: Record<string, string> = { ...(ownEntry(nextCursors, queue) ?? {}) };
    const ordered = new Map<number, RepresentativeDemand[]>();
    for (const rank of ranks) {
      ordered.set(
        rank,
        rotate(
          onQueue.filter((d) => d.rank === rank),
          ownEntry(queueCursors, `${cursorPrefix}${rank}`),
        ),
      );
    }
    const take = (engagementId: string) => {
      const rep = free.shift();
      if (rep === undefined) return false;
      dealt.add(rep);
      push(byEngagement, engagementId, rep);
      if (fallback) push(fromFallback, engagementId, rep);
      return true;
    };
    for (const pass of passes) {
      for (const rank of ranks) {
        const group = ordered.get(rank) ?? [];
        const left = new Map(group.map((d) => [d.engagementId, pass === 'committed' ? whole(d.committed) : (wantedLeft.get(d.engagementId) ?? 0)]));
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
            if (pass === 'wanted') wantedLeft.set(d.engagementId, n - 1);
            lastServed = i;
            progress = true;
          }
        }
        if (pass === 'wanted' && lastServed !== undefined && group.length > 1) {
          const next = group[(lastServed + 1) % group.length];
          if (next !== undefined) setOwn(queueCursors, `${cursorPrefix}${rank}`, next.engagementId);
        }
      }
    }
    if (Object.keys(queueCursors).length > 0) setOwn(nextCursors, queue, queueCursors);
  };

  for (const queue of [...new Set(demands.map((d) => d.queue))].sort()) {
    deal(
      queue,
      demands.filter((d) => d.queue === queue),
      ['committed', 'wanted'],
      '',
      false,
    );
  }
  const fallbackQueues = [...new Set(demands.flatMap((d) => (d.fallbackQueue === undefined ? [] : [d.fallbackQueue])))].sort();
  for (const queue of fallbackQueues) {
    const onQueue = demands.filter((d) => d.fallbackQueue === queue && (wantedLeft.get(d.engagementId) ?? 0) > 0);
    if (onQueue.length > 0) deal(queue, onQueue, ['wanted'], 'fallback:', true);
  }
  for (const d of demands) if (!byEngagement.has(d.engagementId)) byEngagement.set(d.engagementId, []);
  return { byEngagement, fromFallback, cursors: nextCursors };
}

function whole(n: number): number {
  return Math.max(0, Math.floor(n));
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

/** Equal-priority engagements in id order, starting at the cursor (or the next id after it, if it left). */
function rotate(group: readonly RepresentativeDemand[], cursor: string | undefined): RepresentativeDemand[] {
  const sorted = [...group].sort((a, b) => (a.engagementId < b.engagementId ? -1 : a.engagementId > b.engagementId ? 1 : 0));
  if (cursor === undefined) return sorted;
  const start = sorted.findIndex((d) => d.engagementId >= cursor);
  return start <= 0 ? sorted : [...sorted.slice(start), ...sorted.slice(0, start)];
}

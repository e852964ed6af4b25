import type { EngagementConfig } from '../engagement/engagementSchema.js';

/**
 * Engagements that must be paced together by one owner: those linked, directly or through others, by a
 * queue that may serve them (primary or fallback). Pacing deals a queue's free representatives between
 * the engagements it serves (priority first, equal priorities in turn), so two owners deciding for
 * engagements of one queue would each hand out the same representatives. Engagements whose queues
 * serve nobody else form groups of their own, and groups are what instances share out.
 */
export interface PacingGroup {
  /** Stable name of the group: its queues, sorted (the lease and the spreading are keyed by it). */
  readonly key: string;
  /** In catalogue order. */
  readonly engagements: readonly EngagementConfig[];
  /** Sorted. */
  readonly queues: readonly string[];
}

/** The connected components of the engagement-queue graph, in the order of their first engagement. */
export function pacingGroups(engagements: readonly EngagementConfig[]): PacingGroup[] {
  const parent = new Map<string, string>();
  const find = (queue: string): string => {
    let root = queue;
    for (let up = parent.get(root); up !== undefined && up !== root; up = parent.get(root)) root = up;
    parent.set(queue, root);
    return root;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const e of engagements) {
    find(e.routing.primaryQueue);
    if (e.routing.fallbackQueue !== undefined) union(e.routing.primaryQueue, e.routing.fallbackQueue);
  }
  const byRoot = new Map<string, { engagements: EngagementConfig[]; queues: Set<string> }>();
  for (const e of engagements) {
    const root = find(e.routing.primaryQueue);
    const group = byRoot.get(root) ?? { engagements: [], queues: new Set<string>() };
    byRoot.set(root, group);
    group.engagements.push(e);
    group.queues.add(e.routing.primaryQueue);
    if (e.routing.fallbackQueue !== undefined) group.queues.add(e.routing.fallbackQueue);
  }
  return [...byRoot.values()].map((g) => {
    const queues = [...g.queues].sort();
    return { key: queues.join('+'), engagements: g.engagements, queues };
  });
}

/** How many groups one of `liveInstances` takes: ceil(groups / instances), at least one while any exist. */
export function fairShare(groups: number, liveInstances: number): number {
  if (groups === 0) return 0;
  return Math.max(1, Math.ceil(groups / Math.max(1, liveInstances)));
}

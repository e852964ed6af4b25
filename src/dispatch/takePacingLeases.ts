import { createHash } from 'node:crypto';
import { fairShare, type PacingGroup } from '../pacing/pacingGroups.js';
import type { HeldLease, LeaseRow, PacingLeaseStore } from '../store/dispatch/pacingLeaseStore.js';

/** What this instance paces this tick: the groups whose lease it holds, each with its lease. */
export interface TakenLeases {
  readonly held: ReadonlyMap<string, HeldLease>;
  /** Instances counted live (heartbeats and unexpired leases, this one included). */
  readonly liveInstances: number;
  /** How many groups this instance aims to hold: ceil(groups / live instances). */
  readonly share: number;
}

/**
 * An instance's preference for a group (rendezvous hashing): every instance ranks the groups in its
 * own order, so instances starting together reach for different groups first, and a group lands on
 * the same instance again after a restart of the others.
 */
function preference(owner: string, group: string): number {
  return createHash('sha256').update(`${owner}\u0000${group}`).digest().readUInt32BE(0);
}

/**
 * The lease step of a pacing tick. The instance says it is live (heartbeat), reads every lease, and
 * counts the live instances. It keeps the groups it holds up to its fair share (renewing each on
 * its etag) and gives up the ones beyond it, least preferred first, so a newly started instance
 * finds groups to take at its next tick; then it takes free or expired groups, most preferred first,
 * until it holds its share. A lease it cannot renew or take (another instance got there first) is
 * simply not paced by it this tick. `leaseMs` is how long a lease and a heartbeat last unrenewed:
 * an instance that stops ticking has its groups taken over that long after its last tick.
 */
export async function takePacingLeases(store: PacingLeaseStore, groups: readonly PacingGroup[], now: number, leaseMs: number): Promise<TakenLeases> {
  await store.heartbeat(now, leaseMs);
  const table = await store.list(now);
  const owner = store.owner;
  const rows = new Map<string, LeaseRow>(table.leases.map((row) => [row.group, row]));
  const live = new Set<string>([owner, ...table.instances.keys()]);
  for (const row of table.leases) if (row.expiresAt > now) live.add(row.owner);
  const share = fairShare(groups.length, live.size);
  const byPreference = [...groups].sort((a, b) => preference(owner, b.key) - preference(owner, a.key) || a.key.localeCompare(b.key));

  const mine = byPreference.filter((g) => rows.get(g.key)?.owner === owner);
  const held = new Map<string, HeldLease>();
  const kept = mine.slice(0, share);
  for (const group of mine.slice(share)) {
    const row = rows.get(group.key);
    if (row !== undefined) await store.release(row);
  }
  for (const group of kept) {
    const lease = await store.acquire(group.key, rows.get(group.key), now, leaseMs);
    if (lease !== undefined) held.set(group.key, lease);
  }
  for (const group of byPreference) {
    if (held.size >= share) break;
    const row = rows.get(group.key);
    if (row !== undefined && (row.owner === owner || row.expiresAt > now)) continue;
    const lease = await store.acquire(group.key, row, now, leaseMs);
    if (lease !== undefined) held.set(group.key, lease);
  }
  return { held, liveInstances: live.size, share };
}

/**
 * Whether this instance still holds a group's lease at a moment inside the tick (before handing calls
 * over). While more than half the lease is left, nobody else can have taken it and no I/O is needed;
 * past that it is renewed on its etag, which fails when another instance took it over after it
 * expired. Once lost, it stays lost for the rest of the tick.
 */
export class LeaseGuard {
  private lost = false;
  /** Whether the lease was renewed or lost inside the tick (so the lease step that took it is stale). */
  changed = false;
  constructor(
    private readonly store: PacingLeaseStore,
    private lease: HeldLease,
    private readonly leaseMs: number,
    private readonly clock: () => number,
  ) {}

  get group(): string {
    return this.lease.group;
  }

  async stillHeld(): Promise<boolean> {
    if (this.lost) return false;
    const now = this.clock();
    if (now < this.lease.expiresAt - this.leaseMs / 2) return true;
    const renewed = await this.store.renew(this.lease, now, this.leaseMs);
    this.changed = true;
    if (renewed === undefined) {
      this.lost = true;
      return false;
    }
    this.lease = renewed;
    return true;
  }

  /** Gives the lease up (at shutdown); a lease lost meanwhile is left to its new holder. */
  async release(): Promise<void> {
    if (!this.lost) await this.store.release(this.lease);
  }
}

/**
 * The lease step, or the last one's result while it still holds: every lease it took has more than
 * half its time left (nobody else can have taken one, see {@link LeaseGuard}), this instance's heartbeat
 * is as fresh, and it holds its fair share. An instance short of its share, or whose leases pass half
 * their time, steps at every tick; a new instance is seen within half a lease. Cached per `key` (a
 * tick's dependencies), and dropped with {@link forgetLeaseStep} when a guard renewed or lost a lease.
 */
export async function takePacingLeasesCached(
  key: object,
  store: PacingLeaseStore,
  groups: readonly PacingGroup[],
  now: number,
  leaseMs: number,
): Promise<TakenLeases> {
  const last = lastLeaseStep.get(key);
  if (last !== undefined && now >= last.at && last.taken.held.size >= last.taken.share && groups.every((g) => last.groups.has(g.key))) {
    const fresh = [...last.taken.held.values()].every((lease) => now < lease.expiresAt - leaseMs / 2);
    if (fresh && now - last.at < leaseMs / 2) return last.taken;
  }
  const taken = await takePacingLeases(store, groups, now, leaseMs);
  lastLeaseStep.set(key, { taken, at: now, groups: new Set(groups.map((g) => g.key)) });
  return taken;
}

export function forgetLeaseStep(key: object): void {
  lastLeaseStep.delete(key);
}

const lastLeaseStep = new WeakMap<object, { taken: TakenLeases; at: number; groups: ReadonlySet<string> }>();

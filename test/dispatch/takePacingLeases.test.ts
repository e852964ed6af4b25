import { describe, expect, it, vi } from 'vitest';
import { forgetLeaseStep, LeaseGuard, takePacingLeases, takePacingLeasesCached } from '../../src/dispatch/takePacingLeases.js';
import { pacingGroups } from '../../src/pacing/pacingGroups.js';
import { PacingLeaseStore } from '../../src/store/dispatch/pacingLeaseStore.js';
import { makeEngagement } from '../support/engagements.js';
import { workerTables } from '../store/support/workerTables.js';

const T0 = Date.UTC(2026, 10, 25, 15);
const LEASE = 30_000;
const TICK = 5_000;
const groups = pacingGroups(['a', 'b', 'c', 'd', 'e'].map((id) => makeEngagement({ id, routing: { primaryQueue: `q-${id}`, skills: [] } })));

function instances(): (owner: string) => PacingLeaseStore {
  const tables = workerTables();
  return (owner) => new PacingLeaseStore(tables(), owner);
}

/** One tick of each instance, in turn, at `now`; returns the groups each holds. */
async function round(stores: readonly PacingLeaseStore[], now: number): Promise<string[][]> {
  const held: string[][] = [];
  for (const store of stores) held.push([...(await takePacingLeases(store, groups, now, LEASE)).held.keys()].sort());
  return held;
}

describe('taking pacing leases: the fair share of each live instance', () => {
  it('five groups over three instances settle at two, two and one, each group held by exactly one', async () => {
    const instance = instances();
    const stores = ['x', 'y', 'z'].map(instance);

    const first = await round(stores, T0);
    expect(first[0]).toHaveLength(5); // alone at its first tick, x takes everything
    const settled = await round(stores, T0 + TICK);
    const later = await round(stores, T0 + 2 * TICK);

    for (const held of [settled, later]) {
      expect(held.map((h) => h.length).sort()).toEqual([1, 2, 2]);
      expect(held.flat().sort()).toEqual(groups.map((g) => g.key).sort());
    }
    // Once settled, nothing moves.
    expect(later).toEqual(settled);
  });

  it('an instance that leaves cleanly: the others share its groups at their next tick', async () => {
    const instance = instances();
    const stores = ['x', 'y', 'z'].map(instance);
    await round(stores, T0);
    await round(stores, T0 + TICK);
    const [x, y, z] = stores;
    if (x === undefined || y === undefined || z === undefined) throw new Error('fixture');

    await z.leave(T0 + TICK);
    const after = await round([x, y], T0 + 2 * TICK);

    expect(after.map((h) => h.length).sort()).toEqual([2, 3]);
    expect(after.flat().sort()).toEqual(groups.map((g) => g.key).sort());
  });

  it('an instance that dies: its groups stay unpaced until its lease runs out, then the others take them', async () => {
    const instance = instances();
    const stores = ['x', 'y'].map(instance);
    await round(stores, T0);
    const settled = await round(stores, T0 + TICK);
    const [x] = stores;
    if (x === undefined) throw new Error('fixture');

    const before = await round([x], T0 + TICK + LEASE - 1);
    expect(before[0]).toEqual(settled[0]);
    const after = await round([x], T0 + TICK + LEASE);
    expect(after[0]).toEqual(groups.map((g) => g.key).sort());
  });
});

describe('the lease guard inside a tick', () => {
  it('no I/O while more than half the lease is left; past that it renews; once taken over it stays lost', async () => {
    const instance = instances();
    const [x, y] = [instance('x'), instance('y')];
    const lease = await x.acquire('q-a', undefined, T0, LEASE);
    if (lease === undefined) throw new Error('lease not taken');
    let now = T0;
    const guard = new LeaseGuard(x, lease, LEASE, () => now);

    now = T0 + LEASE / 2 - 1;
    expect(await guard.stillHeld()).toBe(true);
    now = T0 + LEASE - 1;
    expect(await guard.stillHeld()).toBe(true); // renewed: now held until T0 + 2 LEASE - 1
    const renewed = (await y.list(now)).leases.find((l) => l.group === 'q-a');
    expect(renewed).toMatchObject({ owner: 'x', expiresAt: T0 + 2 * LEASE - 1 });

    now = T0 + 2 * LEASE;
    expect(
      await y.acquire(
        'q-a',
        (await y.list(now)).leases.find((l) => l.group === 'q-a'),
        now,
        LEASE,
      ),
    ).toBeDefined();
    expect(await guard.stillHeld()).toBe(false);
    now = T0 + 2 * LEASE + 1;
    expect(await guard.stillHeld()).toBe(false);
  });
});

describe('the lease step between ticks', () => {
  it('is reused while every lease it took has more than half its time left; a new instance gets its share within half a lease', async () => {
    const instance = instances();
    const [x, y] = [instance('x'), instance('y')];
    const key = {};
    const reads = vi.spyOn(x, 'list');

    expect((await takePacingLeasesCached(key, x, groups, T0, LEASE)).held.size).toBe(5);
    expect((await takePacingLeasesCached(key, x, groups, T0 + TICK, LEASE)).held.size).toBe(5);
    expect((await takePacingLeasesCached(key, x, groups, T0 + LEASE / 2 - 1, LEASE)).held.size).toBe(5);
    expect(reads).toHaveBeenCalledTimes(1);

    // y starts: short of its share, it steps at every tick; x sees it at its next step, half a lease after its last.
    expect((await takePacingLeasesCached({}, y, groups, T0 + TICK, LEASE)).held.size).toBe(0);
    const x2 = await takePacingLeasesCached(key, x, groups, T0 + LEASE / 2, LEASE);
    expect(reads).toHaveBeenCalledTimes(2);
    expect(x2.held.size).toBe(3);
    const y2 = await takePacingLeases(y, groups, T0 + LEASE / 2 + 1, LEASE);
    expect([...y2.held.keys(), ...x2.held.keys()].sort()).toEqual(groups.map((g) => g.key).sort());

    // A guard that renewed or lost a lease inside the tick drops the step: the next tick steps again.
    forgetLeaseStep(key);
    await takePacingLeasesCached(key, x, groups, T0 + LEASE / 2 + TICK, LEASE);
    expect(reads).toHaveBeenCalledTimes(3);
  });
});

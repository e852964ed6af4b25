import { describe, expect, it } from 'vitest';
import { PacingLeaseStore } from '../../../src/store/dispatch/pacingLeaseStore.js';
import { workerTables } from '../support/workerTables.js';

const SECOND = 1_000;
const T0 = Date.UTC(2026, 2, 10, 9);
const LEASE = 30 * SECOND;

/** The lease store of several app instances on one storage account. */
function instances(): (owner: string) => PacingLeaseStore {
  const tables = workerTables();
  return (owner) => new PacingLeaseStore(tables(), owner);
}

async function rowOf(store: PacingLeaseStore, group: string, now: number) {
  return (await store.list(now)).leases.find((l) => l.group === group);
}

describe('pacing lease store: one holder per group', () => {
  it('another instance is refused while the lease runs, a renewal extends it, and it passes on once expired', async () => {
    const instance = instances();
    const [a, b] = [instance('a'), instance('b')];

    const held = await a.acquire('q1', undefined, T0, LEASE);
    expect(held).toMatchObject({ group: 'q1', expiresAt: T0 + LEASE });
    expect(await b.acquire('q1', await rowOf(b, 'q1', T0 + SECOND), T0 + SECOND, LEASE)).toBeUndefined();
    const renewed = held === undefined ? undefined : await a.renew(held, T0 + 10 * SECOND, LEASE);
    expect(renewed?.expiresAt).toBe(T0 + 40 * SECOND);
    expect(await b.acquire('q1', await rowOf(b, 'q1', T0 + 35 * SECOND), T0 + 35 * SECOND, LEASE)).toBeUndefined();

    const taken = await b.acquire('q1', await rowOf(b, 'q1', T0 + 41 * SECOND), T0 + 41 * SECOND, LEASE);
    expect(taken?.expiresAt).toBe(T0 + 71 * SECOND);
    expect(await rowOf(a, 'q1', T0 + 41 * SECOND)).toMatchObject({ owner: 'b' });
    // The old holder's renewal is on an etag that no longer exists: it learns it lost the lease.
    expect(renewed === undefined ? 'none' : await a.renew(renewed, T0 + 42 * SECOND, LEASE)).toBeUndefined();
  });

  it('groups are leased independently: two instances hold one each', async () => {
    const instance = instances();
    const [a, b] = [instance('a'), instance('b')];

    expect(await a.acquire('q1', undefined, T0, LEASE)).toBeDefined();
    expect(await b.acquire('q2', undefined, T0, LEASE)).toBeDefined();

    const { leases } = await a.list(T0);
    expect(leases.map((l) => [l.group, l.owner]).sort()).toEqual([
      ['q1', 'a'],
      ['q2', 'b'],
    ]);
  });

  it('five instances racing for one free group, and for one expired group: exactly one takes each', async () => {
    const instance = instances();
    const owners = ['a', 'b', 'c', 'd', 'e'];
    const first = await Promise.all(owners.map((owner) => instance(owner).acquire('q1', undefined, T0, LEASE)));
    expect(first.filter((l) => l !== undefined)).toHaveLength(1);

    const later = T0 + 2 * LEASE;
    const seen = await rowOf(instance('x'), 'q1', later);
    const second = await Promise.all(owners.map((owner) => instance(owner).acquire('q1', seen, later, LEASE)));
    expect(second.filter((l) => l !== undefined)).toHaveLength(1);
  });

  it('a release hands the group over at once; a release of a lease taken over since changes nothing', async () => {
    const instance = instances();
    const [a, b] = [instance('a'), instance('b')];
    const held = await a.acquire('q1', undefined, T0, LEASE);
    if (held === undefined) throw new Error('lease not taken');

    await a.release(held);
    const taken = await b.acquire('q1', await rowOf(b, 'q1', T0 + SECOND), T0 + SECOND, LEASE);
    expect(taken).toBeDefined();

    await a.release(held);
    expect(await rowOf(a, 'q1', T0 + SECOND)).toMatchObject({ owner: 'b' });
  });

  it('group names with characters row keys refuse (slash, hash, question mark) are kept as given', async () => {
    const a = instances()('a');
    expect(await a.acquire('sales/uk#1?+q2', undefined, T0, LEASE)).toBeDefined();
    expect((await a.list(T0)).leases.map((l) => l.group)).toEqual(['sales/uk#1?+q2']);
  });
});

describe('pacing lease store: heartbeats', () => {
  it('an instance counts as live until its heartbeat runs out, and leaving withdraws it and its leases at once', async () => {
    const instance = instances();
    const [a, b] = [instance('a'), instance('b')];
    await a.heartbeat(T0, LEASE);
    await b.heartbeat(T0, LEASE);
    await a.acquire('q1', undefined, T0, LEASE);

    expect([...(await a.list(T0 + SECOND)).instances.keys()].sort()).toEqual(['a', 'b']);
    expect([...(await a.list(T0 + LEASE + SECOND)).instances.keys()]).toEqual([]);

    await a.leave(T0 + SECOND);
    const after = await b.list(T0 + SECOND);
    expect([...after.instances.keys()]).toEqual(['b']);
    expect(after.leases).toEqual([]);
  });
});

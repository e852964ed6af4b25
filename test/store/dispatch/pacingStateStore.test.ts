import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { emptyPacingState, restartEngagement, type PacingState } from '../../../src/pacing/pacingState.js';
import { PACING_TABLE, PacingStateStore, RECENT_DECISIONS } from '../../../src/store/dispatch/pacingStateStore.js';
import { NOW, decisionOf, tick } from '../../pacing/pacingFixtures.js';
import { makeEngagement } from '../../support/engagements.js';
import { workerTables } from '../support/workerTables.js';

const SECOND = 1_000;
const T0 = NOW.getTime();

/** A state as pacing leaves it after a tick: engagements with their status and the round-robin cursors. */
function tickedState(): PacingState {
  return tick([makeEngagement({ id: 'renewals' }), makeEngagement({ id: 'collections' })]).state;
}

/** The pacing state store of several app instances on one storage account. */
function instances(): (owner: string) => PacingStateStore {
  const tables = workerTables();
  return (owner) => new PacingStateStore(tables(), owner);
}

describe('pacing state store: state between ticks', () => {
  it('nothing saved yet: the empty state, and no etag', async () => {
    expect(await instances()('a').load()).toEqual({ state: emptyPacingState(), etag: undefined });
  });

  it('the first save is taken once: another instance saving a first state too is refused', async () => {
    const instance = instances();
    const first = tickedState();

    expect(await instance('a').save(first, undefined)).toBe(true);
    expect(await instance('b').save(emptyPacingState(), undefined)).toBe(false);

    expect((await instance('c').load()).state).toEqual(first);
  });

  it('a save with the etag it loaded wins; a save with that etag afterwards is refused and the winner is kept', async () => {
    const instance = instances();
    await instance('a').save(tickedState(), undefined);
    const loaded = await instance('a').load();
    const restarted = restartEngagement(loaded.state, 'renewals', new Date(T0 + 5 * SECOND));

    expect(await instance('a').save(restarted, loaded.etag)).toBe(true);
    expect(await instance('b').save(emptyPacingState(), loaded.etag)).toBe(false);

    const now = await instance('c').load();
    expect(now.state).toEqual(restarted);
    expect(now.etag).not.toBe(loaded.etag);
  });

  it('two instances saving from one load at once: exactly one wins and its state is the one kept', async () => {
    const instance = instances();
    await instance('a').save(emptyPacingState(), undefined);
    const { etag } = await instance('a').load();
    const mine = restartEngagement(emptyPacingState(), 'renewals', NOW);
    const theirs = restartEngagement(emptyPacingState(), 'collections', NOW);

    const saved = await Promise.all([instance('a').save(mine, etag), instance('b').save(theirs, etag)]);

    expect(saved.filter(Boolean)).toHaveLength(1);
    expect((await instance('c').load()).state).toEqual(saved[0] === true ? mine : theirs);
  });

  it('a stored state that is not a pacing state is a precise error, never a silent reset', async () => {
    const tables = workerTables();
    await (
      await tables().table(PACING_TABLE)
    ).upsertEntity({ partitionKey: 'pacing', rowKey: 'state', state: JSON.stringify({ version: 2, engagements: {} }) });

    const error = await new PacingStateStore(tables(), 'a').load().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/^stored pacing state is invalid: version/);
  });
});

describe('pacing state store: the lease', () => {
  it('one owner at a time: another is refused while the lease runs, renewals extend it, and it passes on once expired', async () => {
    const instance = instances();
    const [a, b] = [instance('a'), instance('b')];

    expect(await a.acquireLease(T0, 30 * SECOND)).toBe(true);
    expect(await b.acquireLease(T0 + SECOND, 30 * SECOND)).toBe(false);
    expect(await a.acquireLease(T0 + 10 * SECOND, 30 * SECOND)).toBe(true);
    expect(await b.acquireLease(T0 + 35 * SECOND, 30 * SECOND)).toBe(false);
    expect(await b.acquireLease(T0 + 40 * SECOND, 30 * SECOND)).toBe(true);
    expect(await a.acquireLease(T0 + 41 * SECOND, 30 * SECOND)).toBe(false);
  });

  it('a release hands the lease over at once; a release by an instance that does not hold it changes nothing', async () => {
    const instance = instances();
    const [a, b] = [instance('a'), instance('b')];
    await a.acquireLease(T0, 30 * SECOND);

    await b.releaseLease();
    expect(await b.acquireLease(T0 + SECOND, 30 * SECOND)).toBe(false);

    await a.releaseLease();
    expect(await b.acquireLease(T0 + 2 * SECOND, 30 * SECOND)).toBe(true);
    await b.releaseLease();
    await b.releaseLease();
  });

  it('five instances starting together: exactly one takes the lease', async () => {
    const instance = instances();

    const taken = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((owner) => instance(owner).acquireLease(T0, 30 * SECOND)));

    expect(taken.filter(Boolean)).toHaveLength(1);
  });
});

describe('pacing state store: recent decisions for the status API', () => {
  it(`keeps the ${RECENT_DECISIONS} most recent decisions per engagement, newest first`, async () => {
    const instance = instances();
    const store = instance('a');
    const engagements = [makeEngagement({ id: 'renewals' }), makeEngagement({ id: 'collections' })];
    const ticks = Array.from({ length: RECENT_DECISIONS + 2 }, (_, i) => tick(engagements, { now: new Date(T0 + i * 5 * SECOND) }));

    for (const result of ticks) await store.appendDecisions(result.decisions);
    await store.appendDecisions([]);

    const renewals = await instance('b').decisions('renewals');
    expect(renewals).toEqual(
      ticks
        .map((t) => decisionOf(t, 'renewals'))
        .reverse()
        .slice(0, RECENT_DECISIONS),
    );
    expect((await instance('b').decisions('collections')).map((d) => d.engagementId)).toEqual(Array(RECENT_DECISIONS).fill('collections'));
    expect(await instance('b').decisions('never-paced')).toEqual([]);
  });
});

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
function instances(): (name: string) => PacingStateStore {
  const tables = workerTables();
  return () => new PacingStateStore(tables());
}

describe('pacing state store: state between ticks', () => {
  it('nothing saved yet: the empty state, and no etag', async () => {
    expect(await instances()('a').load()).toEqual({ state: emptyPacingState(), etag: undefined, decisions: new Map() });
  });

  it('the first save of an engagement is taken once: another instance saving a first state for it too is refused', async () => {
    const instance = instances();
    const first = tickedState();

    expect(await instance('a').save(first, undefined)).toBe(true);
    expect(await instance('b').save(restartEngagement(emptyPacingState(), 'renewals', NOW), undefined)).toBe(false);

    expect((await instance('c').load()).state).toEqual(first);
  });

  it('a save with the etag it loaded wins; a save with that etag afterwards is refused and the winner is kept', async () => {
    const instance = instances();
    await instance('a').save(tickedState(), undefined);
    const loaded = await instance('a').load();
    const restarted = restartEngagement(loaded.state, 'renewals', new Date(T0 + 5 * SECOND));

    expect(await instance('a').save(restarted, loaded.etag)).toBe(true);
    expect(await instance('b').save(restartEngagement(loaded.state, 'renewals', new Date(T0 + 9 * SECOND)), loaded.etag)).toBe(false);

    const now = await instance('c').load();
    expect(now.state).toEqual(restarted);
    expect(now.etag).not.toBe(loaded.etag);
  });

  it('two instances changing the same engagement from one load at once: exactly one wins and its state is the one kept', async () => {
    const instance = instances();
    await instance('a').save(tickedState(), undefined);
    const { state, etag } = await instance('a').load();
    const mine = restartEngagement(state, 'renewals', new Date(T0 + SECOND));
    const theirs = restartEngagement(state, 'renewals', new Date(T0 + 2 * SECOND));

    const saved = await Promise.all([instance('a').save(mine, etag), instance('b').save(theirs, etag)]);

    expect(saved.filter(Boolean)).toHaveLength(1);
    expect((await instance('c').load()).state).toEqual(saved[0] === true ? mine : theirs);
  });

  it("two instances pacing different engagements save at once without conflict: each engagement keeps its own owner's state", async () => {
    const instance = instances();
    await instance('a').save(tickedState(), undefined);
    const scopeOf = (id: string) => ({ engagements: [id], queues: [] });
    const [forA, forB] = await Promise.all([instance('a').load(scopeOf('renewals')), instance('b').load(scopeOf('collections'))]);
    expect(Object.keys(forA.state.engagements)).toEqual(['renewals']);
    const mine = restartEngagement(forA.state, 'renewals', new Date(T0 + SECOND));
    const theirs = restartEngagement(forB.state, 'collections', new Date(T0 + 2 * SECOND));

    expect(await Promise.all([instance('a').save(mine, forA.etag), instance('b').save(theirs, forB.etag)])).toEqual([true, true]);

    const { state } = await instance('c').load();
    expect(state.engagements['renewals']).toEqual(mine.engagements['renewals']);
    expect(state.engagements['collections']).toEqual(theirs.engagements['collections']);
  });

  it('a state saved as one row by an earlier version is read, and rows written since take its place', async () => {
    const tables = workerTables();
    const legacy = tickedState();
    await (await tables().table(PACING_TABLE)).upsertEntity({ partitionKey: 'pacing', rowKey: 'state', state: JSON.stringify(legacy) });
    const store = new PacingStateStore(tables());

    const loaded = await store.load();
    expect(loaded.state).toEqual(legacy);
    const restarted = restartEngagement(loaded.state, 'renewals', new Date(T0 + SECOND));
    expect(await store.save(restarted, loaded.etag)).toBe(true);

    expect((await store.load()).state).toEqual(restarted);
  });

  it('a stored state that is not a pacing state is a precise error, never a silent reset', async () => {
    const tables = workerTables();
    await (
      await tables().table(PACING_TABLE)
    ).upsertEntity({ partitionKey: 'pacing', rowKey: 'state', state: JSON.stringify({ version: 2, engagements: {} }) });

    const error = await new PacingStateStore(tables()).load().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/^stored pacing state is invalid: version/);
  });
});

describe('pacing state store: recent decisions for the status API', () => {
  it(`keeps the ${RECENT_DECISIONS} most recent decisions per engagement, newest first, saved with the state they came from`, async () => {
    const instance = instances();
    const store = instance('a');
    const engagements = [makeEngagement({ id: 'renewals' }), makeEngagement({ id: 'collections' })];
    const ticks = Array.from({ length: RECENT_DECISIONS + 2 }, (_, i) => tick(engagements, { now: new Date(T0 + i * 5 * SECOND) }));

    for (const result of ticks) {
      const stored = await store.load();
      expect(await store.save(result.state, stored.etag, { decisions: result.decisions, previous: stored.decisions })).toBe(true);
    }
    // A save refused (the state changed since it was read) appends nothing either.
    const stale = await store.load();
    expect(await instance('b').save(ticks[0]?.state ?? emptyPacingState(), stale.etag)).toBe(true);
    expect(await store.save(ticks[1]?.state ?? emptyPacingState(), stale.etag, { decisions: ticks[0]?.decisions ?? [], previous: stale.decisions })).toBe(
      false,
    );
    expect((await store.load()).decisions.get('renewals')).toEqual(stale.decisions.get('renewals'));
    expect(stale.decisions.get('renewals')?.length).toBe(RECENT_DECISIONS);

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

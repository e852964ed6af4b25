import { describe, expect, it } from 'vitest';
import { outcomeDepsOn, pacingTickDepsOn } from '../support/pacingTickDeps.js';
import { ALL_DAY_UTC, mobileEngagementEntry, representative } from '../support/engagements.js';
import type { PlannedContact } from '../../src/contacts/plannedContact.js';
import type { DialerPort, DialRequest, DialSubmission } from '../../src/dialers/dialerPort.js';
import { TelephonySimulator } from '../../src/dialers/simulator/telephonySimulator.js';
import { VirtualClock } from '../../src/dialers/simulator/virtualClock.js';
import { recordOutcome } from '../../src/dispatch/recordOutcome.js';
import { runPacingTick } from '../../src/dispatch/runPacingTick.js';
import { parseEngagementFile, type EngagementCatalog } from '../../src/engagement/loadEngagementFile.js';
import { OFCOM_ABANDONED_HOLD_MS } from '../../src/pacing/ofcom.js';
import { JourneyOutboxStore } from '../../src/store/journeyOutcomes/journeyOutboxStore.js';
import { testTables } from '../support/tables.js';

const START = Date.parse('2026-11-25T15:00:00Z');
const HOUR = 3_600_000;
const reps = (n: number) => Array.from({ length: n }, (_, i) => representative(i + 1));
const UK = '+447700900123';
const US = '+12125550123';

function engagement(id: string, dialMode: unknown) {
  return mobileEngagementEntry(id, 'q', {
    dialMode,
    callOrder: { kind: 'fifo' },
    customerInsights: { journeyTrigger: { name: 'msdynmkt_proactivecallcompleted' } },
  });
}

function catalog(): EngagementCatalog {
  return parseEngagementFile({
    queues: [{ name: 'q', operatingHours: ALL_DAY_UTC, representatives: reps(4) }],
    engagements: [
      engagement('progressive', { mode: 'progressive', maxCallsPerRepresentative: 1 }),
      engagement('preview', { mode: 'preview', start: 'automatic', countdownSeconds: 0 }),
    ],
  });
}

/** A delivery to one mobile number, callable for the next five days. */
function contact(contactId: string, e164: string, deliveryId: string): PlannedContact {
  const windows = [{ start: new Date(START - HOUR).toISOString(), end: new Date(START + 5 * 24 * HOUR).toISOString() }];
  return {
    contactId,
    phones: [{ type: 'mobile', e164, windows }],
    timeZone: 'UTC',
    timezoneInferred: false,
    windows,
    attributes: {},
    callOrderKey: `k-${deliveryId}`,
    priority: 1,
    source: 'segment:s/r/1',
    deliveryId,
  };
}

class Dialer implements DialerPort {
  readonly name = 'simulator' as const;
  readonly handed: DialRequest[] = [];
  constructor(readonly simulator: TelephonySimulator) {}
  async dial(requests: readonly DialRequest[]): Promise<DialSubmission[]> {
    this.handed.push(...requests);
    return this.simulator.dial(requests);
  }
  cancel(ids: readonly string[]): Promise<void> {
    return this.simulator.cancel(ids);
  }
  activeCalls(engagementId: string) {
    return this.simulator.activeCalls(engagementId);
  }
}

/** The real dispatch shell on Azurite; the simulator places the calls, the test reports how they ended. */
function harness() {
  const tables = testTables();
  const cat = catalog();
  const clock = new VirtualClock(START);
  const simulator = new TelephonySimulator({
    seed: 5,
    clock,
    engagements: [...cat.engagements.values()],
    queues: [...cat.queues.values()],
    profile: { liveAnswer: 0, answeringMachine: 0, busy: 1, invalidAddress: 0, callFailed: 0 },
  });
  const dialer = new Dialer(simulator);
  const journeyOutbox = new JourneyOutboxStore(tables);
  const outcomeDeps = outcomeDepsOn(tables, cat, () => clock.now(), journeyOutbox);
  const { deliveries } = outcomeDeps;
  const logs: string[] = [];
  // The simulator's own reports are dropped: the test says how each call ended.
  const deps = pacingTickDepsOn(tables, outcomeDeps, { dialer, presence: simulator, journeyOutbox, log: (line) => logs.push(line) });
  return {
    clock,
    dialer,
    deliveries,
    logs,
    tick: () => runPacingTick(deps, clock.now()),
    /** A restart of the worker: the same stores and lease owner, none of the worker's memory. */
    restarted: () => {
      const fresh = pacingTickDepsOn(tables, outcomeDeps, { dialer, presence: simulator, journeyOutbox, log: (line) => logs.push(line) });
      return () => runPacingTick(fresh, clock.now());
    },
    store: (engagementId: string, triggerId: string, contacts: PlannedContact[]) => deliveries.storeContacts(engagementId, triggerId, contacts, clock.now()),
    abandon: (engagementId: string, deliveryId: string) =>
      recordOutcome(outcomeDeps, { deliveryId, attempt: 1, engagementId, result: 'Abandoned', at: new Date(clock.now()).toISOString(), waitSeconds: 3 }),
    dialedIds: () => dialer.handed.map((r) => r.deliveryId),
  };
}

describe('Ofcom: an abandoned UK number is not called again within 72 hours without a guaranteed representative', () => {
  it('progressive: the UK number is held to the 72 h mark and the reason logged; the US number is called again at once', async () => {
    const h = harness();
    await h.store('progressive', 't1', [contact('c-uk', UK, 'd-uk-1'), contact('c-us', US, 'd-us-1')]);
    expect((await h.tick()).dialed).toBe(2);
    h.clock.advanceTo(START + 60_000);
    const abandonedAt = h.clock.now();
    expect(await h.abandon('progressive', 'd-uk-1')).toMatchObject({ status: 'recorded' });
    expect(await h.abandon('progressive', 'd-us-1')).toMatchObject({ status: 'recorded' });

    // The same contacts are triggered again an hour later.
    h.clock.advanceTo(START + HOUR);
    await h.store('progressive', 't2', [contact('c-uk', UK, 'd-uk-2'), contact('c-us', US, 'd-us-2')]);
    const report = await h.tick();
    expect(h.dialedIds()).toEqual(['d-uk-1', 'd-us-1', 'd-us-2']);
    expect(report.postponed).toBe(1);
    expect(await h.deliveries.get('progressive', 'd-uk-2')).toMatchObject({ state: 'queued', attempt: 1 });
    const held = h.logs.find((line) => line.includes('d-uk-2'));
    expect(held).toBe(
      `delivery d-uk-2 attempt 1 of progressive: Ofcom: a call to its UK number was abandoned at ${new Date(abandonedAt).toISOString()}; ` +
        `not called again within 72 h without a guaranteed representative: postponed to ${new Date(abandonedAt + OFCOM_ABANDONED_HOLD_MS).toISOString()}`,
    );
    expect(h.logs.join('\n')).not.toContain(UK);
    // Pacing now judges this engagement's abandonment over 24 hours too, and says so.
    const ofcom = report.decisions.find((d) => d.engagementId === 'progressive')?.rules.find((r) => r.regulation === 'ofcom');
    expect(ofcom?.explanation).toMatch(
      /^Ofcom: abandonment over 24 h is 100% \(2 abandoned of 2 live answers\) vs threshold 3%: not judged below a sample of 34$/,
    );

    // Just before the 72 h mark it is still not called; at the mark it is.
    h.clock.advanceTo(abandonedAt + OFCOM_ABANDONED_HOLD_MS - 60_000);
    await h.tick();
    expect(h.dialedIds()).not.toContain('d-uk-2');
    h.clock.advanceTo(abandonedAt + OFCOM_ABANDONED_HOLD_MS);
    expect((await h.tick()).dialed).toBe(1);
    expect(h.dialedIds()).toEqual(['d-uk-1', 'd-us-1', 'd-us-2', 'd-uk-2']);
  });

  it('a restarted worker still judges abandonment over 24 hours for an engagement that called a UK number, from its saved pacing state', async () => {
    const h = harness();
    await h.store('progressive', 't1', [contact('c-uk', UK, 'd-uk-1')]);
    expect((await h.tick()).dialed).toBe(1);
    const dialedAt = h.clock.now();
    h.clock.advanceTo(START + 60_000);
    await h.tick(); // saves the UK dial of the tick before with the engagement's state

    const tick = h.restarted();
    h.clock.advanceTo(START + HOUR);
    const ofcomRule = (report: Awaited<ReturnType<typeof tick>>) =>
      report.decisions.find((d) => d.engagementId === 'progressive')?.rules.find((r) => r.regulation === 'ofcom');
    expect(ofcomRule(await tick())?.explanation).toMatch(/^Ofcom: abandonment over 24 h /);
    // 24 hours after that dial, with no UK number called since, the 24-hour judgement ends.
    h.clock.advanceTo(dialedAt + 24 * HOUR);
    expect(ofcomRule(await tick())).toBeUndefined();
  });

  it('preview guarantees a representative: the abandoned UK number is called again at once', async () => {
    const h = harness();
    await h.store('preview', 't1', [contact('c-uk', UK, 'd-uk-1')]);
    expect((await h.tick()).dialed).toBe(1);
    h.clock.advanceTo(START + 60_000);
    expect(await h.abandon('preview', 'd-uk-1')).toMatchObject({ status: 'recorded' });
    h.clock.advanceTo(START + HOUR);
    await h.store('preview', 't2', [contact('c-uk', UK, 'd-uk-2')]);
    const report = await h.tick();
    expect(report).toMatchObject({ dialed: 1, postponed: 0 });
    expect(h.dialedIds()).toEqual(['d-uk-1', 'd-uk-2']);
    expect(h.dialer.handed[1]?.representativeId).toBeDefined();
  });
});

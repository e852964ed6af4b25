import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import type { PlannedContact } from '../../src/contacts/plannedContact.js';
import type { EngagementCatalog } from '../../src/engagement/loadEngagementFile.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';
import { ConsoleAssets } from '../../src/management/consoleAssets.js';
import {
  consoleHandler,
  doNotContactAddHandler,
  doNotContactImportHandler,
  doNotContactRemoveHandler,
  engagementCancelQueuedHandler,
  engagementListHandler,
  engagementMetricsHandler,
  engagementPauseHandler,
  engagementResumeHandler,
  engagementWhatIfHandler,
  type ManagementReadDeps,
} from '../../src/management/managementHttp.js';
import { decidePacing } from '../../src/pacing/decidePacing.js';
import { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { DeliveryStore } from '../../src/store/dispatch/deliveryStore.js';
import { EngagementMetricsStore } from '../../src/store/dispatch/engagementMetricsStore.js';
import { PacingStateStore } from '../../src/store/dispatch/pacingStateStore.js';
import { recordTickMetrics } from '../../src/dispatch/recordTickMetrics.js';
import { OutcomeCounts } from '../../src/pacing/outcomeCounts.js';
import { makeEngagement, makeQueue } from '../support/engagements.js';
import { testTables } from '../support/tables.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');
const clock = () => NOW;
const progressive = makeEngagement({ id: 'renewals', priority: 'high' });
const predictive = makeEngagement({
  id: 'collections',
  dialMode: { mode: 'predictive' },
  rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 60, decreaseByPercent: 100 }],
});
const catalog: EngagementCatalog = {
  engagements: new Map([
    [progressive.id, progressive],
    [predictive.id, predictive],
  ]),
  queues: new Map([['q1', makeQueue()]]),
};
const context = () => new InvocationContext({ logHandler: () => undefined });

function request(method: string, path: string, body?: unknown, params: Record<string, string> = {}, contentType = 'application/json'): HttpRequest {
  return new HttpRequest({
    method,
    url: `http://localhost/api/${path}`,
    params,
    headers: { 'content-type': contentType },
    ...(body === undefined ? {} : { body: { string: typeof body === 'string' ? body : JSON.stringify(body) } }),
  });
}

function world() {
  const tables = testTables();
  const deliveries = new DeliveryStore(tables);
  const stateStore = new PacingStateStore(tables);
  const pending = new PendingContactStore(tables);
  const doNotContact = new DoNotContactStore(tables, 60_000, clock);
  const metrics = new EngagementMetricsStore(tables);
  const read: ManagementReadDeps = { catalog, status: { deliveries, outcomes: new OutcomeStore(tables, clock), stateStore }, metrics, clock };
  return { tables, deliveries, stateStore, pending, doNotContact, metrics, read };
}

function contact(i: number, triggerId = 't1'): PlannedContact {
  const windows = [{ start: '2026-11-25T14:00:00.000Z', end: '2026-11-25T20:00:00.000Z' }];
  return {
    contactId: `c${i}`,
    phones: [{ type: 'mobile', e164: `+1212555${1000 + i}`, windows }],
    timeZone: 'UTC',
    timezoneInferred: false,
    windows,
    attributes: {},
    callOrderKey: `k${String(i).padStart(4, '0')}`,
    priority: 1,
    source: `event:${triggerId}`,
    deliveryId: `d-${i}`,
  };
}

const json = (r: HttpResponseInit) => r.jsonBody as Record<string, unknown>;

describe('pause and resume (admin)', () => {
  it('pause holds the engagement in the stored pacing state; the next tick places no calls; resume lifts it', async () => {
    const w = world();
    const deps = () => Promise.resolve({ catalog, stateStore: w.stateStore, clock });
    const paused = await engagementPauseHandler(deps)(
      request('POST', 'engagements/renewals/pause', { reason: 'list review' }, { engagementId: 'renewals' }),
      context(),
    );
    expect(paused).toEqual({ status: 200, jsonBody: { engagementId: 'renewals', paused: true, changed: true } });
    const { state } = await w.stateStore.load();
    const tick = decidePacing({
      now: new Date(NOW + 5_000),
      engagements: [progressive],
      queues: catalog.queues,
      availableRepresentatives: new Map([['q1', ['00000000-0000-4000-8000-000000000001']]]),
      active: new Map(),
      outcomes: new Map(),
      pending: new Map([['renewals', 10]]),
      state,
    });
    expect(tick.decisions[0]).toMatchObject({ status: 'paused', boundBy: 'operator-paused', dialNow: 0 });

    const again = await engagementPauseHandler(deps)(
      request('POST', 'engagements/renewals/pause', { reason: 'twice' }, { engagementId: 'renewals' }),
      context(),
    );
    expect(json(again)).toMatchObject({ changed: false });

    const resumed = await engagementResumeHandler(deps)(
      request('POST', 'engagements/renewals/resume', { reason: 'done' }, { engagementId: 'renewals' }),
      context(),
    );
    expect(json(resumed)).toEqual({ engagementId: 'renewals', paused: false, changed: true });
    expect((await w.stateStore.load()).state.engagements['renewals']?.hold).toBeUndefined();
  });

  it('resume of an engagement a rule paused is a 409 naming restart, and changes nothing', async () => {
    const w = world();
    const held = {
      status: 'paused' as const,
      statusSince: new Date(NOW).toISOString(),
      hold: { status: 'paused' as const, reason: 'abandonment 5%', since: new Date(NOW).toISOString() },
    };
    expect(await w.stateStore.save({ version: 1, engagements: { collections: held }, cursors: {} }, undefined)).toBe(true);
    const before = await w.stateStore.load();
    const response = await engagementResumeHandler(() => Promise.resolve({ catalog, stateStore: w.stateStore, clock }))(
      request('POST', 'engagements/collections/resume', { reason: 'go' }, { engagementId: 'collections' }),
      context(),
    );
    expect(response.status).toBe(409);
    expect(json(response)['message']).toContain('restart it instead');
    expect((await w.stateStore.load()).state).toEqual(before.state);
  });

  it('a pause without a reason is a 400 with the field; an unknown engagement a 404', async () => {
    const w = world();
    const deps = () => Promise.resolve({ catalog, stateStore: w.stateStore, clock });
    const bad = await engagementPauseHandler(deps)(request('POST', 'engagements/renewals/pause', { reason: '' }, { engagementId: 'renewals' }), context());
    expect(bad.status).toBe(400);
    expect(json(bad)['issues']).toEqual([expect.objectContaining({ path: 'reason' })]);
    const unknown = await engagementPauseHandler(deps)(request('POST', 'engagements/nope/pause', { reason: 'x' }, { engagementId: 'nope' }), context());
    expect(unknown.status).toBe(404);
    expect((await w.stateStore.load()).etag).toBeUndefined();
  });
});

describe('cancel queued deliveries (admin)', () => {
  it('by contact id: only those are cancelled and their pending marks cleared; the rest stay queued', async () => {
    const w = world();
    const contacts = [1, 2, 3, 4].map((i) => contact(i));
    await w.deliveries.storeContacts('renewals', 't1', contacts, NOW);
    await w.pending.reserve(
      'renewals',
      contacts.map((c) => ({ contactId: c.contactId, triggerId: 't1', deliveryId: c.deliveryId, until: NOW + 86_400_000 })),
      NOW,
    );
    const deps = () => Promise.resolve({ catalog, deliveries: w.deliveries, pending: w.pending, clock });
    const response = await engagementCancelQueuedHandler(deps)(
      request('POST', 'engagements/renewals/cancel-queued', { contactIds: ['c2', 'c4'] }, { engagementId: 'renewals' }),
      context(),
    );
    expect(json(response)).toEqual({ engagementId: 'renewals', scanned: 4, matched: 2, cancelled: 2, more: false });
    expect((await w.deliveries.queued('renewals', 10)).map((r) => r.deliveryId)).toEqual(['d-1', 'd-3']);
    expect((await w.deliveries.get('renewals', 'd-2'))?.state).toBe('cancelled');
    expect([...(await w.pending.byEngagement('renewals', NOW)).pending.keys()].sort()).toEqual(['c1', 'c3']);
  });

  it('all: every queued delivery; a claimed one is left to its call', async () => {
    const w = world();
    await w.deliveries.storeContacts('renewals', 't1', [contact(1), contact(2), contact(3)], NOW);
    const [head] = await w.deliveries.queued('renewals', 1);
    if (head === undefined) throw new Error('nothing queued');
    await w.deliveries.claim('renewals', head, NOW);
    const response = await engagementCancelQueuedHandler(() => Promise.resolve({ catalog, deliveries: w.deliveries, pending: w.pending, clock }))(
      request('POST', 'engagements/renewals/cancel-queued', { all: true }, { engagementId: 'renewals' }),
      context(),
    );
    expect(json(response)).toMatchObject({ cancelled: 2 });
    expect((await w.deliveries.get('renewals', 'd-1'))?.state).toBe('dialing');
  });

  it('no filter, or all with a filter, is a 400 and cancels nothing', async () => {
    const w = world();
    await w.deliveries.storeContacts('renewals', 't1', [contact(1)], NOW);
    const deps = () => Promise.resolve({ catalog, deliveries: w.deliveries, pending: w.pending, clock });
    for (const body of [{}, { all: true, contactIds: ['c1'] }]) {
      const response = await engagementCancelQueuedHandler(deps)(
        request('POST', 'engagements/renewals/cancel-queued', body, { engagementId: 'renewals' }),
        context(),
      );
      expect(response.status).toBe(400);
      expect(json(response)['issues']).toEqual([expect.objectContaining({ path: 'all' })]);
    }
    expect(await w.deliveries.queued('renewals', 10)).toHaveLength(1);
  });
});

describe('do-not-contact (admin)', () => {
  it('add normalises national numbers, remove takes them off, through the store', async () => {
    const w = world();
    const deps = () => Promise.resolve({ doNotContact: w.doNotContact, defaultCountry: 'GB' });
    const added = await doNotContactAddHandler(deps)(
      request('POST', 'do-not-contact', { entries: [{ phone: '020 7946 0958' }, { contactId: 'c-9' }] }),
      context(),
    );
    expect(json(added)).toEqual({ added: 2 });
    expect(await w.doNotContact.contains({ phone: '+442079460958' })).toBe(true);
    expect(await w.doNotContact.contains({ contactId: 'c-9' })).toBe(true);
    const removed = await doNotContactRemoveHandler(deps)(request('POST', 'do-not-contact/remove', { entries: [{ phone: '+442079460958' }] }), context());
    expect(json(removed)).toEqual({ removed: 1 });
    expect(await w.doNotContact.contains({ phone: '+442079460958' })).toBe(false);
  });

  it('one bad number rejects the request with its path, and nothing is added', async () => {
    const w = world();
    const response = await doNotContactAddHandler(() => Promise.resolve({ doNotContact: w.doNotContact, defaultCountry: 'US' }))(
      request('POST', 'do-not-contact', { entries: [{ phone: '+12125550100' }, { phone: '12' }] }),
      context(),
    );
    expect(response.status).toBe(400);
    expect(json(response)['issues']).toEqual([expect.objectContaining({ path: 'entries[1].phone' })]);
    expect(await w.doNotContact.contains({ phone: '+12125550100' })).toBe(false);
  });

  it('CSV import with a header, quotes and a default country; a bad row names its line and imports nothing', async () => {
    const w = world();
    const deps = () => Promise.resolve({ doNotContact: w.doNotContact, defaultCountry: 'US' });
    const csv = 'phone,contactId,reason\n"(212) 555-0100",,"asked, politely"\n,c-7,\n';
    const ok = await doNotContactImportHandler(deps)(request('POST', 'do-not-contact/import', csv, {}, 'text/csv'), context());
    expect(json(ok)).toEqual({ imported: 2 });
    expect(await w.doNotContact.contains({ phone: '+12125550100' })).toBe(true);
    expect(await w.doNotContact.contains({ contactId: 'c-7' })).toBe(true);

    const bad = await doNotContactImportHandler(deps)(request('POST', 'do-not-contact/import', '+12125550111\nnot a number\n', {}, 'text/csv'), context());
    expect(bad.status).toBe(400);
    expect(json(bad)['issues']).toEqual([expect.objectContaining({ path: 'line 2.phone' })]);
    expect(await w.doNotContact.contains({ phone: '+12125550111' })).toBe(false);
  });
});

describe('overview, metrics and what-if', () => {
  it('overview: every engagement, and the higher priority wins the shared queue', async () => {
    const w = world();
    await w.deliveries.storeContacts('renewals', 't1', [contact(1), contact(2)], NOW);
    const response = await engagementListHandler(() => Promise.resolve(w.read))(request('GET', 'engagements'), context());
    const body = json(response) as { engagements: { engagementId: string; counts: { queued: number } }[]; queues: unknown[] };
    expect(body.engagements.map((e) => [e.engagementId, e.counts.queued])).toEqual([
      ['renewals', 2],
      ['collections', 0],
    ]);
    expect(body.queues).toEqual([expect.objectContaining({ queue: 'q1', winner: 'renewals', why: 'highest priority dialing (high)' })]);
  });

  it('metrics: ticks fold into minutes (dials add up), with the rule thresholds for the charts', async () => {
    const w = world();
    const decision = (dialNow: number) =>
      decidePacing({
        now: new Date(NOW),
        engagements: [predictive],
        queues: catalog.queues,
        availableRepresentatives: new Map([['q1', ['00000000-0000-4000-8000-000000000001']]]),
        active: new Map(),
        outcomes: new Map(),
        pending: new Map([['collections', dialNow]]),
        state: { version: 1, engagements: {}, cursors: {} },
      }).decisions;
    const deps = { metrics: w.metrics, outcomesOf: () => Promise.resolve(OutcomeCounts.fromEvents([])) };
    await recordTickMetrics(deps, decision(1), NOW - 120_000);
    await recordTickMetrics(deps, decision(1), NOW - 115_000);
    await recordTickMetrics(deps, decision(0), NOW - 30_000);
    const response = await engagementMetricsHandler(() => Promise.resolve(w.read))(
      request('GET', 'engagements/collections/metrics?minutes=5', undefined, { engagementId: 'collections' }),
      context(),
    );
    const body = json(response) as { points: { minute: string; dials: number; ticks: number }[]; thresholds: Record<string, number> };
    expect(body.points.map((p) => [p.minute, p.dials, p.ticks])).toEqual([
      ['2026-11-25T14:58:00.000Z', 2, 2],
      ['2026-11-25T14:59:00.000Z', 0, 1],
    ]);
    expect(body.thresholds).toEqual({ abandonmentPercent: 3 });
    const bad = await engagementMetricsHandler(() => Promise.resolve(w.read))(
      request('GET', 'engagements/collections/metrics?minutes=0', undefined, { engagementId: 'collections' }),
      context(),
    );
    expect(bad.status).toBe(400);
  });

  it('what-if: two settings side by side, seeded; a dial mode the type does not allow is a 400 under its scenario', async () => {
    const w = world();
    const profile = { representatives: 10, liveAnswerRate: 0.3, handleSeconds: 120, listSize: 300 };
    const run = () =>
      engagementWhatIfHandler(() => Promise.resolve(w.read))(
        request(
          'POST',
          'engagements/renewals/what-if',
          {
            scenarios: [
              { label: 'as configured', profile },
              { label: 'one per rep', dialMode: { mode: 'progressive', maxCallsPerRepresentative: 1 }, profile },
            ],
          },
          { engagementId: 'renewals' },
        ),
        context(),
      );
    const first = json(await run()) as { scenarios: { label: string; dials: number; finishedSeconds: number | null; occupancy: number }[] };
    expect(first.scenarios.map((s) => s.label)).toEqual(['as configured', 'one per rep']);
    for (const s of first.scenarios) {
      expect(s.dials).toBe(300);
      expect(s.finishedSeconds).toBeGreaterThan(0);
    }
    // Two calls per representative finish the same list sooner than one.
    expect(first.scenarios[0]?.finishedSeconds).toBeLessThan(first.scenarios[1]?.finishedSeconds ?? 0);
    expect(json(await run())).toEqual(first);

    const bad = await engagementWhatIfHandler(() => Promise.resolve(w.read))(
      request(
        'POST',
        'engagements/renewals/what-if',
        { scenarios: [{ label: 'x', dialMode: { mode: 'copilot', maxConcurrentCalls: 5 }, profile }] },
        { engagementId: 'renewals' },
      ),
      context(),
    );
    expect(bad.status).toBe(400);
    expect((json(bad)['issues'] as { path: string }[])[0]?.path).toMatch(/^scenarios\[0\]/);
  });
});

describe('console files', () => {
  const handler = consoleHandler(() => Promise.resolve({ assets: new ConsoleAssets() }));
  const get = (path: string, url = `http://localhost/api/console/${path}`) =>
    handler(new HttpRequest({ method: 'GET', url, params: path === '' ? {} : { path } }), context());

  it('serves the page, its script and the chart library from node_modules; nothing else', async () => {
    const page = await get('');
    expect(page.status).toBe(200);
    expect(String((page.headers as Record<string, string>)['content-type'])).toContain('text/html');
    expect((page.body as Buffer).toString('utf8')).toContain('<main id="main">');
    const chart = await get('vendor/uPlot.iife.min.js');
    expect((chart.body as Buffer).toString('utf8')).toContain('uPlot');
    expect((await get('../package.json')).status).toBe(404);
    expect((await get('console.ts')).status).toBe(404);
  });

  it('/api/console without the slash redirects to the slash (relative links)', async () => {
    const response = await get('', 'http://localhost/api/console');
    expect(response).toMatchObject({ status: 301, headers: { location: '/api/console/' } });
  });
});

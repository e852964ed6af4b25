import { TableServiceClient, TableClient } from '@azure/data-tables';
import { HttpRequest, InvocationContext, type HttpFunctionOptions, type HttpResponseInit } from '@azure/functions';
import fc from 'fast-check';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appRegistry, disposeApp } from '../../src/app/registry.js';
import { composeDispatch } from '../../src/dispatch/composeDispatch.js';
import { CALL_EVENTS_SIGNATURE_HEADER, signCallEvents } from '../../src/dispatch/callEventsSignature.js';
import { callEventsFunction, engagementRestartFunction, engagementStatusFunction } from '../../src/dispatch/dispatchFunctions.js';
import { storeContactBatches } from '../../src/dispatch/storeContactBatches.js';
import { journeyEventsFunction, previewFunction, segmentMembersFunction } from '../../src/intake/intakeFunctions.js';
import {
  doNotContactAddFunction,
  doNotContactImportFunction,
  doNotContactRemoveFunction,
  engagementCancelQueuedFunction,
  engagementPauseFunction,
  engagementResumeFunction,
  engagementWhatIfFunction,
} from '../../src/management/managementFunctions.js';
import { AgentLegWorld, startConversation } from '../agentLeg/support/agentLegWorld.js';
import { anaContextValue } from '../agentLeg/support/agentLegFixtures.js';
import { BOT_APP_ID, COPILOT_APP_ID, entraToken, newSigningKey, serveSigningKeys, TENANT_ID } from '../agentLeg/support/tokens.js';
import { openAllDayEngagementFile, setAppSettings, type AppSettingsHandle } from '../support/appEnvironment.js';
import { startBroker } from '../support/serviceBus.js';

/**
 * Hostile input at every door, generated: each input gets its precise 4xx, and nothing is published
 * or stored (queue depth from the broker, row counts of every table of the app, checked after each
 * class). The handlers run in process against the real broker and Azurite; each class prints how
 * many inputs it tried. Sized to stay well under a minute on a 2-core machine.
 */
const SECRET = 'fuzz-signing-secret-0123456789abcdef0123456789';
const MAX_PAGE = 5;
const MAX_EVENTS = 5;
const QUEUE = 'contact-batches';
const tried: Record<string, number> = {};

let broker: Awaited<ReturnType<typeof startBroker>>;
let settings: AppSettingsHandle;

beforeAll(async () => {
  broker = await startBroker([{ name: QUEUE, duplicateDetection: true }]);
  settings = setAppSettings({
    engagementsFile: openAllDayEngagementFile(),
    serviceBusConnection: broker.broker.connectionString,
    extra: {
      INTAKE_MAX_PAGE_SIZE: String(MAX_PAGE),
      INTAKE_MAX_EVENTS: String(MAX_EVENTS),
      CALL_EVENTS_MAX_EVENTS: String(MAX_EVENTS),
      CALL_EVENTS_SIGNING_SECRET: SECRET,
    },
  });
});

afterAll(async () => {
  await disposeApp();
  settings.restore();
  await broker.stop();
  const lines = Object.entries(tried).map(([k, n]) => `  ${k}: ${n}`);
  const total = Object.values(tried).reduce((a, b) => a + b, 0);
  console.info(`fuzz inputs tried per class (${total} in all):\n${lines.join('\n')}`);
});

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
const quiet = () => new InvocationContext({ functionName: 'fuzz', logHandler: () => undefined });

function call(
  fn: HttpFunctionOptions,
  init: { method?: string; path: string; body?: string; headers?: Record<string, string>; params?: Record<string, string>; query?: string },
): Promise<HttpResponseInit> {
  const query = init.query ?? '';
  const request = new HttpRequest({
    method: init.method ?? 'POST',
    url: `http://localhost:7071/api/${init.path}${query === '' ? '' : `?${query}`}`,
    ...(init.body === undefined ? {} : { body: { string: init.body } }),
    headers: { 'content-type': 'application/json', ...init.headers },
    params: init.params ?? {},
    query: Object.fromEntries(new URLSearchParams(query)),
  });
  return (fn.handler as Handler)(request, quiet());
}

/** Everything the app stores or publishes: rows per table of this run's prefix, and the queue's messages. */
async function footprint(): Promise<Record<string, number>> {
  const connection = inject('azuriteTablesConnection');
  const service = TableServiceClient.fromConnectionString(connection, { allowInsecureConnection: true });
  const out: Record<string, number> = {};
  for await (const t of service.listTables()) {
    const name = t.name ?? '';
    if (!name.startsWith(settings.tablePrefix)) continue;
    let n = 0;
    for await (const _ of TableClient.fromConnectionString(connection, name, { allowInsecureConnection: true }).listEntities()) n++;
    // A table created empty on first use changes nothing stored.
    if (n > 0) out[name.slice(settings.tablePrefix.length)] = n;
  }
  const stats = broker.broker.stats(QUEUE);
  out['queue'] = stats.active + stats.scheduled + stats.deadLetter;
  return out;
}

/** Runs one class: every input must get `status` (or one of them); the footprint is the same afterwards. */
async function fuzzClass<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  numRuns: number,
  send: (input: T) => Promise<HttpResponseInit>,
  status: number | readonly number[],
) {
  const before = await footprint();
  const allowed = typeof status === 'number' ? [status] : status;
  let n = 0;
  await fc.assert(
    fc.asyncProperty(arb, async (input) => {
      n++;
      const response = await send(input);
      if (!allowed.includes(response.status ?? 200)) {
        throw new Error(`${name}: got ${response.status} ${JSON.stringify(response.jsonBody)} for ${JSON.stringify(input)?.slice(0, 300)}`);
      }
    }),
    { numRuns, seed: 20261129 },
  );
  tried[name] = (tried[name] ?? 0) + n;
  expect(await footprint(), `${name} changed stored state`).toEqual(before);
}

// ---- generators -------------------------------------------------------------------------------

/** Strings no id may hold: a lone surrogate (not well-formed UTF-16, so not storable or comparable). */
const badIdChar = fc.constantFrom('\uD800', '\uDFFF', '\uDBFF', '\uDC00');
const badId = fc.tuple(fc.string({ maxLength: 20 }), badIdChar, fc.string({ maxLength: 20 })).map(([a, c, b]) => `${a}${c}${b}`);
/** Unicode that is fine in names but tries edges: RTL marks, emoji, combining marks, BOM. */
const edgyText = fc.constantFrom('\u202Eevil\u202C', '👨‍👩‍👧‍👦', 'e\u0301\u0301\u0301', '\uFEFFbom', 'ﷺ', '\u200B');
const protoKey = fc.constantFrom('__proto__', 'constructor', 'prototype');

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

const validEvent = (i: number) => ({
  eventId: `evt-${i}`,
  journeyId: 'j',
  contactId: `c-${i}`,
  phones: { mobile: `+1212555${String(1000 + i)}` },
  windows: [{ start: new Date(Date.now() + 3_600_000).toISOString(), end: new Date(Date.now() + 7_200_000).toISOString() }],
});

/** A journey event with one field made wrong: a value of the wrong type, an over-long string, a bad id. */
const wrongEvent = fc.oneof(
  fc.record({
    field: fc.constantFrom('eventId', 'contactId', 'phones', 'windows'),
    value: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })),
  }),
  fc.record({ field: fc.constantFrom('eventId', 'contactId'), value: fc.oneof(badId, fc.constant('x'.repeat(129)), fc.constant(''), fc.constant('   ')) }),
  fc.record({ field: fc.constantFrom('attributes'), value: fc.oneof(fc.constant(nested(40)), fc.constant({ big: 'x'.repeat(40_000) })) }),
  fc.record({ field: protoKey, value: fc.constant({ polluted: true }) }),
);

const bodyText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 3 }).filter((j) => !j.trimStart().startsWith('[') && !j.trimStart().startsWith('{')),
  fc.constant('{"a":'),
  fc.constant('\uD800'),
  fc.constant(JSON.stringify(nested(200))),
);

describe('fuzz: every door refuses hostile input and changes nothing', () => {
  it('intake: journey-events, segment-members, preview', async () => {
    const journey = (body: string, engagementId = 'open') =>
      call(journeyEventsFunction, { path: `engagements/${engagementId}/journey-events`, body, params: { engagementId } });
    await fuzzClass('journey-events: not JSON events', bodyText, 1_000, (b) => journey(b), 400);
    await fuzzClass(
      'journey-events: one wrong field',
      wrongEvent,
      1_200,
      ({ field, value }) => journey(`[${JSON.stringify(validEvent(1)).slice(0, -1)},${JSON.stringify(field)}:${JSON.stringify(value)}}]`),
      400,
    );
    await fuzzClass(
      'journey-events: past the event limit',
      fc.integer({ min: MAX_EVENTS + 1, max: MAX_EVENTS + 20 }),
      50,
      (n) => journey(JSON.stringify(Array.from({ length: n }, (_, i) => validEvent(i)))),
      413,
    );
    await fuzzClass(
      'journey-events: unknown engagement',
      fc.oneof(badId, edgyText, fc.string({ minLength: 1, maxLength: 30 })).filter((s) => s !== 'open'),
      300,
      (id) => journey('[]', id),
      [400, 404],
    );

    const page = (fn: HttpFunctionOptions, kind: string, body: string, query: string) =>
      call(fn, { path: `engagements/open/${kind}`, body, params: { engagementId: 'open' }, query, headers: { 'content-type': 'application/x-ndjson' } });
    const member = (i: number) => JSON.stringify({ contactId: `m-${i}`, phones: { mobile: `+1212555${String(2000 + i)}` } });
    const badQuery = fc.oneof(
      fc.constant(''),
      fc.constant('segmentId=s'),
      fc
        .record({
          page: fc.oneof(fc.constant('-1'), fc.constant('1.5'), fc.constant('x'), fc.constant('')),
          id: fc.oneof(fc.constant('x'.repeat(129)), fc.constant('%20')),
        })
        .map(({ page: p, id }) => `segmentId=${id}&exportRunId=r&page=${p}`),
    );
    await fuzzClass('segment-members: bad page parameters', badQuery, 300, (q) => page(segmentMembersFunction, 'segment-members', member(1), q), 400);
    await fuzzClass(
      'segment-members: NDJSON lines wrong',
      bodyText.filter((b) => b.trim() !== ''),
      600,
      (b) => page(segmentMembersFunction, 'segment-members', `${member(1)}\n${b}`, 'segmentId=s&exportRunId=r&page=0'),
      400,
    );
    await fuzzClass(
      'segment-members: past the page limit',
      fc.integer({ min: MAX_PAGE + 1, max: MAX_PAGE + 30 }),
      60,
      (n) => page(segmentMembersFunction, 'segment-members', Array.from({ length: n }, (_, i) => member(i)).join('\n'), 'segmentId=s&exportRunId=r&page=0'),
      413,
    );
    await fuzzClass('preview: bodies that are not contacts', bodyText, 500, (b) => page(previewFunction, 'preview', b, ''), 400);
    // Sizes past the per-item cap (64 KiB a line), padded inside a field the schema would otherwise accept.
    await fuzzClass(
      'segment-members: a line past 64 KiB',
      fc.integer({ min: 1, max: 4_096 }),
      100,
      (extra) =>
        page(
          segmentMembersFunction,
          'segment-members',
          JSON.stringify({ contactId: 'm-big', email: 'x'.repeat(64 * 1024 + extra) }),
          'segmentId=s&exportRunId=r&page=0',
        ),
      413,
    );

    // Duplicate and replayed requests: the first is taken in, every repeat answers the same and adds nothing.
    const [e7, e8] = [validEvent(7), validEvent(8)];
    const original = JSON.stringify([e7, e8]);
    const first = await journey(original);
    expect(first.status).toBe(202);
    const answer = JSON.stringify(first.jsonBody);
    await fuzzClass(
      'journey-events: the same request replayed',
      fc.constantFrom(original, JSON.stringify([e8, e7])),
      100,
      async (body) => {
        const again = await journey(body);
        // A replay gets the original answer, marked as a replay (the accepted-trigger record answers it).
        const { replay, ...same } = (again.jsonBody ?? {}) as Record<string, unknown>;
        return again.status === 202 && replay === true && JSON.stringify(same) === answer ? again : { status: 500, jsonBody: again.jsonBody };
      },
      202,
    );
  });

  it('call events: forged, unsigned, old and replayed signatures; signed garbage', async () => {
    const post = (body: string, header?: string) =>
      call(callEventsFunction, { path: 'call-events', body, headers: header === undefined ? {} : { [CALL_EVENTS_SIGNATURE_HEADER]: header } });
    const event = (deliveryId: string) => JSON.stringify([{ engagementId: 'open', deliveryId, attempt: 1, result: 'NoAnswer', at: new Date().toISOString() }]);
    const now = () => Math.floor(Date.now() / 1000);
    await fuzzClass('call-events: no signature', fc.string({ maxLength: 60 }), 300, (d) => post(event(d)), 401);
    await fuzzClass(
      'call-events: forged signature',
      fc.oneof(
        fc.string({ maxLength: 100 }),
        fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `t=${now()},v1=${h}`),
      ),
      1_000,
      (h) => post(event('d-1'), h),
      401,
    );
    await fuzzClass(
      'call-events: signed with another secret',
      fc.string({ minLength: 32, maxLength: 64 }).filter((s) => s !== SECRET),
      300,
      (secret) => {
        const body = event('d-1');
        return post(body, signCallEvents(secret, now(), body));
      },
      401,
    );
    await fuzzClass(
      'call-events: replayed (old or future timestamp)',
      fc.oneof(fc.integer({ min: 301, max: 10_000_000 }), fc.integer({ min: -10_000_000, max: -301 })),
      400,
      (offset) => {
        const body = event('d-1');
        return post(body, signCallEvents(SECRET, now() - offset, body));
      },
      401,
    );
    await fuzzClass(
      'call-events: signed, malformed',
      fc.oneof(bodyText, fc.json({ maxDepth: 2 })).filter((b) => b.trim() !== '[]'),
      700,
      (body) => post(body, signCallEvents(SECRET, now(), body)),
      [400, 413],
    );
    // Signed and well formed, but for attempts never dialed (a replay or a guess): counted, nothing applied.
    await fuzzClass(
      'call-events: signed, for deliveries never dialed',
      fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/),
      300,
      async (d) => {
        const body = event(d);
        const response = await post(body, signCallEvents(SECRET, now(), body));
        return response.status === 202 && (response.jsonBody as { recorded: number }).recorded === 0 ? { status: 409 } : response;
      },
      409,
    );
  });

  it('status, restart and the management endpoints', async () => {
    const anyId = fc.oneof(badId, edgyText, fc.string({ minLength: 1, maxLength: 40 })).filter((s) => s !== 'open' && s.trim() !== '');
    const forId = (fn: HttpFunctionOptions, method: string, suffix: string) => (id: string) =>
      call(fn, { method, path: `engagements/id/${suffix}`, params: { engagementId: id }, body: method === 'GET' ? undefined : '{}' });
    await fuzzClass('status: unknown engagement', anyId, 500, forId(engagementStatusFunction, 'GET', 'status'), [400, 404]);
    await fuzzClass('restart: unknown engagement', anyId, 500, forId(engagementRestartFunction, 'POST', 'restart'), [400, 404]);
    await fuzzClass('pause: unknown engagement', anyId, 200, forId(engagementPauseFunction, 'POST', 'pause'), [400, 404]);
    await fuzzClass('resume: unknown engagement', anyId, 200, forId(engagementResumeFunction, 'POST', 'resume'), [400, 404]);
    await fuzzClass('cancel-queued: unknown engagement', anyId, 200, forId(engagementCancelQueuedFunction, 'POST', 'cancel-queued'), [400, 404]);
    await fuzzClass(
      'what-if: bad bodies',
      bodyText,
      300,
      (b) => call(engagementWhatIfFunction, { path: 'engagements/open/what-if', body: b, params: { engagementId: 'open' } }),
      400,
    );
    const badEntries = fc.oneof(
      bodyText,
      fc
        .record({
          entries: fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), badId, edgyText, fc.constant('+1'), fc.constant('+12125550100'.repeat(3))), {
            minLength: 1,
            maxLength: 3,
          }),
        })
        .map((b) => JSON.stringify(b)),
      protoKey.map((k) => `{"${k}":{"entries":["+12125550100"]}}`),
    );
    await fuzzClass('do-not-contact add: bad entries', badEntries, 500, (b) => call(doNotContactAddFunction, { path: 'do-not-contact', body: b }), 400);
    await fuzzClass(
      'do-not-contact remove: bad entries',
      badEntries,
      300,
      (b) => call(doNotContactRemoveFunction, { path: 'do-not-contact/remove', body: b }),
      400,
    );
    await fuzzClass(
      'do-not-contact import: bad CSV',
      fc.oneof(
        fc.constant(''),
        fc.string({ maxLength: 100 }).map((s) => `phone\n${s.replace(/[\d+]/g, 'x')}x`),
        badId.map((s) => `phone\n${s}`),
      ),
      300,
      (b) => call(doNotContactImportFunction, { path: 'do-not-contact/import', body: b, headers: { 'content-type': 'text/csv' } }),
      400,
    );
  });

  it('the contact-batch trigger: bad messages are rejected with a reason, no delivery is stored', async () => {
    const { contactBatches } = await appRegistry.use(composeDispatch);
    const before = await footprint();
    let n = 0;
    const messages = fc.oneof(
      fc.anything({ maxDepth: 3 }),
      fc.record({ schema: fc.constant('contact-batch/v1'), engagementId: fc.oneof(badId, fc.constant('unknown')), contacts: fc.anything({ maxDepth: 2 }) }),
    );
    await fc.assert(
      fc.asyncProperty(messages, async (body) => {
        n++;
        await storeContactBatches(contactBatches, [body], [{ messageId: `fuzz-${n}`, deliveryCount: 1, enqueuedTimeUtc: undefined }], quiet());
      }),
      { numRuns: 400, seed: 20261129 },
    );
    tried['contact-batch trigger: malformed messages'] = n;
    const after = await footprint();
    // Each message becomes one RejectedMessages row; nothing else is stored or published.
    const { RejectedMessages: rejected = 0, ...rest } = after;
    const { RejectedMessages: rejectedBefore = 0, ...restBefore } = before;
    expect(rejected - rejectedBefore).toBe(n);
    expect(rest).toEqual(restBefore);
  });

  it('/api/messages: unsigned and wrongly signed bot activities are 401 and record nothing', async () => {
    nock.disableNetConnect();
    const key = newSigningKey();
    const forger = newSigningKey(key.kid);
    serveSigningKeys(key);
    try {
      const world = new AgentLegWorld({
        settings: {
          appId: BOT_APP_ID,
          tenantId: TENANT_ID,
          credential: { kind: 'client-secret', secret: 'not-a-real-secret' },
          allowedCallers: [COPILOT_APP_ID],
          agentName: 'the Contoso assistant',
          production: true,
        },
      });
      let n = 0;
      const token = fc.oneof(
        fc.constant(undefined),
        fc.string({ maxLength: 80 }),
        fc.constant(entraToken(forger)),
        fc.constant(entraToken(key, { audience: 'api://someone-else' })),
        fc.constant(entraToken(key, { expiresInSeconds: -600 })),
      );
      await fc.assert(
        fc.asyncProperty(token, fc.anything({ maxDepth: 2 }), async (t, value) => {
          n++;
          const response = await world.post(startConversation({ ...anaContextValue, junk: value }), t === undefined ? {} : { token: t });
          expect(response.status).toBe(401);
        }),
        { numRuns: 400, seed: 20261129 },
      );
      tried['messages: unsigned or wrongly signed'] = n;
      expect(world.outcomes.events).toEqual([]);
    } finally {
      nock.cleanAll();
      nock.enableNetConnect();
    }
  });
});

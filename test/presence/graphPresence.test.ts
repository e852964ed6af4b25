import nock from 'nock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isolateNetwork } from '../support/isolateNetwork.js';
import { SystemError, UserError } from '../../src/errors.js';
import { GRAPH_SCOPE } from '../../src/presence/graphClient.js';
import { GraphPresence, PRESENCE_IDS_PER_REQUEST, toAvailability } from '../../src/presence/graphPresence.js';
import { type FakeEntra, fakeEntra } from '../dialers/dynamics365/fakeEntra.js';

const GRAPH = 'https://graph.microsoft.com';
const PATH = '/v1.0/communications/getPresencesByUserId';

/** Entra object ids: lowercase GUIDs, numbered. */
function userId(n: number): string {
  return `6e1f0a52-0c1e-4b6a-9a1e-${String(n).padStart(12, '0')}`;
}

interface PresenceCall {
  readonly ids: string[];
  readonly authorization: string | null;
}

/** Answers like Graph: one presence per known id (absent ids are simply missing), shape from Microsoft Learn. */
function fakePresences(calls: PresenceCall[], availabilityOf: (id: string) => string | undefined, times = 1): nock.Scope {
  return nock(GRAPH)
    .post(PATH)
    .times(times)
    .reply(async (request: Request) => {
      const { ids } = (await request.json()) as { ids: string[] };
      calls.push({ ids, authorization: request.headers.get('authorization') });
      const value = ids.flatMap((id) => {
        const availability = availabilityOf(id);
        return availability === undefined ? [] : [{ id, availability, activity: availability === 'Busy' ? 'InACall' : availability }];
      });
      return [200, { '@odata.context': `${GRAPH}/v1.0/$metadata#Collection(microsoft.graph.presence)`, value }, { 'Content-Type': 'application/json' }];
    });
}

let entra: FakeEntra;

isolateNetwork();

/**
 * Puts timers on a fake clock that jumps to each next timer as soon as the test has nothing else to do:
 * the Graph client's retry waits (its own setTimeout) pass at once, and the fake clock shows how long
 * they were. Returns the elapsed fake time.
 */
function fastForwardTimers(): () => number {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  vi.setTimerTickMode('nextTimerAsync');
  const start = fakeNow();
  return () => fakeNow() - start;
}

function fakeNow(): number {
  const now = vi.getMockedSystemTime();
  if (now === null) throw new Error('timers are not faked');
  return now.getTime();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('GraphPresence', () => {
  it('1,400 ids take three requests of at most 650, with a Graph token from the credential', async () => {
    entra = fakeEntra();
    const calls: PresenceCall[] = [];
    fakePresences(calls, () => 'Available', 3);
    const ids = Array.from({ length: 1_400 }, (_, i) => userId(i + 1));

    const presence = await new GraphPresence({ credential: entra.credential }).getAvailability(ids);

    expect(calls.map((c) => c.ids.length)).toEqual([650, 650, 100]);
    expect(PRESENCE_IDS_PER_REQUEST).toBe(650);
    expect(new Set(calls.flatMap((c) => c.ids))).toEqual(new Set(ids));
    expect(presence.size).toBe(1_400);
    expect([...presence.values()].every((a) => a === 'Available')).toBe(true);
    expect(entra.tokenRequests.map((r) => r.scope)).toEqual([GRAPH_SCOPE]);
    expect(calls.every((c) => c.authorization === `Bearer ${entra.tokenFor(GRAPH_SCOPE)}`)).toBe(true);
  });

  it("unknown availability values and ids Graph leaves out are PresenceUnknown; ids keep the caller's spelling", async () => {
    entra = fakeEntra();
    const calls: PresenceCall[] = [];
    const answers = new Map([
      [userId(1), 'Busy'],
      [userId(2), 'AvailableIdle'],
      [userId(3), 'Focusing'],
    ]);
    fakePresences(calls, (id) => answers.get(id));
    const upper = userId(2).toUpperCase();

    const presence = await new GraphPresence({ credential: entra.credential }).getAvailability([userId(1), upper, userId(3), userId(4)]);

    expect(Object.fromEntries(presence)).toEqual({
      [userId(1)]: 'Busy',
      [upper]: 'AvailableIdle',
      [userId(3)]: 'PresenceUnknown',
      [userId(4)]: 'PresenceUnknown',
    });
    expect(calls[0]?.ids).toEqual([userId(1), userId(2), userId(3), userId(4)]);
  });

  it('serves presence from the cache within the TTL and asks Graph again after it (injected clock)', async () => {
    entra = fakeEntra();
    const calls: PresenceCall[] = [];
    let availability = 'Available';
    fakePresences(calls, () => availability, 2);
    let now = Date.parse('2026-11-25T14:00:00.000Z');
    const graph = new GraphPresence({ credential: entra.credential, cacheTtlMs: 10_000, now: () => now });

    await graph.getAvailability([userId(1), userId(2)]);
    availability = 'Busy';
    now += 9_999;
    const cached = await graph.getAvailability([userId(2), userId(1)]);
    now += 1;
    const fresh = await graph.getAvailability([userId(1), userId(3)]);

    expect(cached.get(userId(1))).toBe('Available');
    expect(fresh.get(userId(1))).toBe('Busy');
    expect(calls.map((c) => c.ids)).toEqual([
      [userId(1), userId(2)],
      [userId(1), userId(3)],
    ]);
  });

  it('concurrent callers asking for the same representatives share one Graph request', async () => {
    entra = fakeEntra();
    const calls: PresenceCall[] = [];
    fakePresences(calls, () => 'Available', 2);
    const graph = new GraphPresence({ credential: entra.credential });

    const [a, b] = await Promise.all([graph.getAvailability([userId(1), userId(2)]), graph.getAvailability([userId(2), userId(1)])]);

    expect(calls).toHaveLength(1);
    expect(a.get(userId(2))).toBe('Available');
    expect(b.get(userId(1))).toBe('Available');
  });

  it('a 429 with Retry-After is retried by the Graph client after the server delay', async () => {
    entra = fakeEntra();
    const calls: PresenceCall[] = [];
    nock(GRAPH)
      .post(PATH)
      .reply(
        429,
        {
          error: {
            code: 'TooManyRequests',
            message: 'Too many requests',
            innerError: { date: '2026-11-25T14:00:00', 'request-id': '9b600954-ba11-4899-8ce9-6abad341f299' },
          },
        },
        { 'Retry-After': '1', 'Content-Type': 'application/json' },
      );
    fakePresences(calls, () => 'Away');

    const elapsedMs = fastForwardTimers();
    const presence = await new GraphPresence({ credential: entra.credential }).getAvailability([userId(1)]);

    expect(presence.get(userId(1))).toBe('Away');
    expect(calls).toHaveLength(1);
    expect(elapsedMs()).toBeGreaterThanOrEqual(990);
    expect(elapsedMs()).toBeLessThan(3_000);
  });

  it('a Retry-After beyond maxRetryAfterSeconds fails at once as a retryable Throttled SystemError', async () => {
    entra = fakeEntra();
    const graphThrottle = nock(GRAPH)
      .post(PATH)
      .reply(429, { error: { code: 'TooManyRequests', message: 'Too many requests' } }, { 'Retry-After': '120', 'Content-Type': 'application/json' });

    const elapsedMs = fastForwardTimers();
    const error = await new GraphPresence({ credential: entra.credential, retry: { maxRetryAfterSeconds: 5 } })
      .getAvailability([userId(1)])
      .catch((e: unknown) => e);

    expect(elapsedMs()).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(SystemError);
    expect(error).toMatchObject({ code: 'Throttled', retryable: true });
    expect((error as SystemError).retryAfterMs).toBeGreaterThan(110_000);
    expect(graphThrottle.isDone()).toBe(true);
  });

  it('403 names the missing application permission and is not retryable; nothing is cached', async () => {
    entra = fakeEntra();
    nock(GRAPH)
      .post(PATH)
      .reply(403, { error: { code: 'Forbidden', message: 'Insufficient privileges to complete the operation.' } }, { 'Content-Type': 'application/json' });
    const calls: PresenceCall[] = [];
    fakePresences(calls, () => 'Available');
    const graph = new GraphPresence({ credential: entra.credential });

    const error = await graph.getAvailability([userId(1)]).catch((e: unknown) => e);
    const after = await graph.getAvailability([userId(1)]);

    expect(error).toMatchObject({ name: 'SystemError', code: 'DependencyFailed', retryable: false });
    expect((error as Error).message).toContain('Presence.Read.All');
    expect(after.get(userId(1))).toBe('Available');
    expect(calls).toHaveLength(1);
  });

  it('rejects bad options naming the field', () => {
    entra = fakeEntra();
    expect(() => new GraphPresence({ credential: entra.credential, cacheTtlMs: -1 })).toThrow(UserError);
    expect(() => new GraphPresence({ credential: entra.credential, retry: { maxRetries: 11 } })).toThrow('retry.maxRetries');
  });

  it("toAvailability keeps Graph's documented values and nothing else", () => {
    expect(toAvailability('DoNotDisturb')).toBe('DoNotDisturb');
    expect(toAvailability('BeRightBack')).toBe('BeRightBack');
    expect(toAvailability('available')).toBe('PresenceUnknown');
    expect(toAvailability(null)).toBe('PresenceUnknown');
  });
});

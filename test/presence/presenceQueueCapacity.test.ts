import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { EngagementCatalog } from '../../src/engagement/loadEngagementFile.js';
import { SystemError } from '../../src/errors.js';
import { GraphPresence } from '../../src/presence/graphPresence.js';
import { GraphQueueMembers } from '../../src/presence/graphQueueMembers.js';
import { PresenceQueueCapacity } from '../../src/presence/presenceQueueCapacity.js';
import { fakeEntra } from '../dialers/dynamics365/fakeEntra.js';
import { makeQueue } from '../support/engagements.js';
import { isolateNetwork } from '../support/isolateNetwork.js';

const GRAPH = 'https://graph.microsoft.com';
const PRESENCE_PATH = '/v1.0/communications/getPresencesByUserId';
const GROUP_ID = '02bd9fd6-8f93-4758-87c3-1fb73740a315';
const MEMBERS_PATH = `/v1.0/groups/${GROUP_ID}/transitiveMembers/microsoft.graph.user`;

function userId(n: number): string {
  return `6e1f0a52-0c1e-4b6a-9a1e-${String(n).padStart(12, '0')}`;
}

/** Graph's getPresencesByUserId: one presence per id it knows (others are left out), shape from Microsoft Learn. */
function servePresence(availability: Readonly<Record<string, string>>): void {
  nock(GRAPH)
    .post(PRESENCE_PATH)
    .reply(async (request: Request) => {
      const { ids } = (await request.json()) as { ids: string[] };
      const value = ids.flatMap((id) => {
        const known = availability[id];
        return known === undefined
          ? []
          : [{ id, availability: known, activity: known === 'Busy' ? 'InACall' : known, outOfOfficeSettings: { message: null, isOutOfOffice: false } }];
      });
      return [200, { '@odata.context': `${GRAPH}/v1.0/$metadata#Collection(microsoft.graph.presence)`, value }, { 'Content-Type': 'application/json' }];
    })
    .persist();
}

/** A group's transitive user members, in pages linked by `@odata.nextLink` as Graph serves them. */
function serveGroupMembers(pages: readonly (readonly string[])[]): void {
  let served = 0;
  nock(GRAPH)
    .get(MEMBERS_PATH)
    .query(true)
    .times(pages.length)
    .reply(() => {
      const ids = pages[served] ?? [];
      served += 1;
      const next =
        served < pages.length ? { '@odata.nextLink': `${GRAPH}${MEMBERS_PATH}?$select=id&$top=999&$count=true&$skiptoken=RFNwdAIAAQAAACM${served}` } : {};
      return [
        200,
        {
          '@odata.context': `${GRAPH}/v1.0/$metadata#users(id)`,
          '@odata.count': pages.flat().length,
          ...next,
          value: ids.map((id) => ({ '@odata.type': '#microsoft.graph.user', id })),
        },
        { 'Content-Type': 'application/json' },
      ];
    });
}

const catalog: EngagementCatalog = {
  engagements: new Map(),
  queues: new Map(
    [
      makeQueue({
        name: 'renewals-voice',
        skills: ['renewals', 'english'],
        representatives: [{ userId: userId(1) }, { userId: userId(2) }, { userId: userId(3) }],
      }),
      makeQueue({ name: 'renewals-overflow', skills: ['renewals'], representatives: undefined, entraGroupId: GROUP_ID }),
    ].map((q) => [q.name, q]),
  ),
};

/** Queue capacity as production builds it: the real Graph adapters, with only Entra and Graph faked over HTTP. */
function capacity(): PresenceQueueCapacity {
  const { credential } = fakeEntra();
  return new PresenceQueueCapacity(catalog, new GraphPresence({ credential }), new GraphQueueMembers({ credential }));
}

isolateNetwork();

describe('PresenceQueueCapacity over Microsoft Graph', () => {
  it('a queue that does not offer every skill asked for has no capacity, even with someone Available', async () => {
    servePresence({ [userId(1)]: 'Available', [userId(2)]: 'Available', [userId(3)]: 'Available' });

    expect(await capacity().hasCapacity('renewals-voice', ['renewals', 'spanish'])).toBe(false);
  });

  it('nobody Available (busy, away, offline, do not disturb, or unknown to Graph): no capacity', async () => {
    servePresence({ [userId(1)]: 'Busy', [userId(2)]: 'DoNotDisturb' });
    const none = capacity();

    expect(await none.hasCapacity('renewals-voice', ['renewals'])).toBe(false);
  });

  it('one Available member among busy ones is capacity; so is AvailableIdle; no skills asked means any queue', async () => {
    servePresence({ [userId(1)]: 'Busy', [userId(2)]: 'Away', [userId(3)]: 'Available' });

    expect(await capacity().hasCapacity('renewals-voice', ['english', 'renewals'])).toBe(true);
    nock.cleanAll();
    servePresence({ [userId(1)]: 'Offline', [userId(2)]: 'AvailableIdle', [userId(3)]: 'BeRightBack' });
    expect(await capacity().hasCapacity('renewals-voice', [])).toBe(true);
  });

  it('a queue named by its Entra group: its members across pages, one of them Available, is capacity', async () => {
    serveGroupMembers([[userId(21), userId(22)], [userId(23)]]);
    servePresence({ [userId(21)]: 'Busy', [userId(22)]: 'Offline', [userId(23)]: 'Available' });

    expect(await capacity().hasCapacity('renewals-overflow', ['renewals'])).toBe(true);
  });

  it('an Entra group whose members are all away has no capacity, and neither has an empty group', async () => {
    serveGroupMembers([[userId(21), userId(22)]]);
    servePresence({ [userId(21)]: 'Away', [userId(22)]: 'BusyIdle' });
    expect(await capacity().hasCapacity('renewals-overflow', ['renewals'])).toBe(false);

    serveGroupMembers([[]]);
    expect(await capacity().hasCapacity('renewals-overflow', ['renewals'])).toBe(false);
  });

  it('a queue the catalogue does not declare has no capacity', async () => {
    expect(await capacity().hasCapacity('collections-voice', [])).toBe(false);
  });

  it('Graph refusing the presence read is an error naming the permission, not "nobody free"', async () => {
    nock(GRAPH)
      .post(PRESENCE_PATH)
      .reply(403, { error: { code: 'Forbidden', message: 'Insufficient privileges to complete the operation.' } }, { 'Content-Type': 'application/json' });

    const error = await capacity()
      .hasCapacity('renewals-voice', ['renewals'])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SystemError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toContain('Presence.Read.All');
  });
});

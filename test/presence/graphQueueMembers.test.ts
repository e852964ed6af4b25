import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { isolateNetwork } from '../support/isolateNetwork.js';
import { UserError } from '../../src/errors.js';
import { GRAPH_SCOPE } from '../../src/presence/graphClient.js';
import { GraphQueueMembers } from '../../src/presence/graphQueueMembers.js';
import { type FakeEntra, fakeEntra } from '../dialers/dynamics365/fakeEntra.js';

const GRAPH = 'https://graph.microsoft.com';
const GROUP_ID = '02bd9fd6-8f93-4758-87c3-1fb73740a315';
const MEMBERS_PATH = `/v1.0/groups/${GROUP_ID}/transitiveMembers/microsoft.graph.user`;

function userId(n: number): string {
  return `6e1f0a52-0c1e-4b6a-9a1e-${String(n).padStart(12, '0')}`;
}

/** A page as Graph returns it for `$select=id` on an OData cast to users (shape from Microsoft Learn). */
function page(ids: string[], nextSkipToken?: string) {
  return {
    '@odata.context': `${GRAPH}/v1.0/$metadata#users(id)`,
    ...(nextSkipToken === undefined ? {} : { '@odata.nextLink': `${GRAPH}${MEMBERS_PATH}?$select=id&$top=999&$count=true&$skiptoken=${nextSkipToken}` }),
    value: ids.map((id) => ({ '@odata.type': '#microsoft.graph.user', id })),
  };
}

interface MembersCall {
  readonly url: URL;
  readonly consistencyLevel: string | null;
  readonly authorization: string | null;
}

let entra: FakeEntra;

isolateNetwork();

describe('GraphQueueMembers', () => {
  it('follows @odata.nextLink to the last page and returns every member id once', async () => {
    entra = fakeEntra();
    const calls: MembersCall[] = [];
    const pages = [page([userId(1), userId(2)], 'RFNwdAIAAQAAACM6'), page([userId(3), userId(2)], 'RFNwdAIAAQAAACM7'), page([userId(4)])];
    nock(GRAPH)
      .get(MEMBERS_PATH)
      .query(true)
      .times(3)
      .reply((request: Request) => {
        calls.push({
          url: new URL(request.url),
          consistencyLevel: request.headers.get('consistencylevel'),
          authorization: request.headers.get('authorization'),
        });
        return [200, pages[calls.length - 1], { 'Content-Type': 'application/json' }];
      });

    const members = await new GraphQueueMembers({ credential: entra.credential }).listGroupMembers(GROUP_ID);

    expect(members).toEqual([userId(1), userId(2), userId(3), userId(4)]);
    expect(calls).toHaveLength(3);
    const first = calls[0]?.url.searchParams;
    expect(first?.get('$select')).toBe('id');
    expect(first?.get('$count')).toBe('true');
    expect(first?.get('$top')).toBe('999');
    expect(calls.map((c) => c.url.searchParams.get('$skiptoken'))).toEqual([null, 'RFNwdAIAAQAAACM6', 'RFNwdAIAAQAAACM7']);
    expect(calls.every((c) => c.consistencyLevel === 'eventual')).toBe(true);
    expect(calls.every((c) => c.authorization === `Bearer ${entra.tokenFor(GRAPH_SCOPE)}`)).toBe(true);
  });

  it('a group Graph does not know is a non-retryable SystemError naming the group', async () => {
    entra = fakeEntra();
    nock(GRAPH)
      .get(MEMBERS_PATH)
      .query(true)
      .reply(
        404,
        {
          error: {
            code: 'Request_ResourceNotFound',
            message: `Resource '${GROUP_ID}' does not exist or one of its queried reference-property objects are not present.`,
          },
        },
        { 'Content-Type': 'application/json' },
      );

    const error = await new GraphQueueMembers({ credential: entra.credential }).listGroupMembers(GROUP_ID).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'SystemError', code: 'DependencyFailed', retryable: false });
    expect((error as Error).message).toContain(`group ${GROUP_ID}`);
  });

  it('a nextLink that repeats is stopped instead of looping', async () => {
    entra = fakeEntra();
    nock(GRAPH)
      .get(MEMBERS_PATH)
      .query(true)
      .times(3)
      .reply(200, page([userId(1)], 'c2FtZQ'), { 'Content-Type': 'application/json' });

    const error = await new GraphQueueMembers({ credential: entra.credential }).listGroupMembers(GROUP_ID).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'SystemError', retryable: false });
    expect((error as Error).message).toContain('paging did not end');
  });

  it('an id that is not a GUID is refused before calling Graph', async () => {
    entra = fakeEntra();
    await expect(new GraphQueueMembers({ credential: entra.credential }).listGroupMembers('renewals-voice')).rejects.toThrow(UserError);
    expect(entra.tokenRequests).toEqual([]);
  });
});

import type { TokenCredential } from '@azure/identity';
import type { Client } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { SystemError, UserError, toFieldIssues } from '../errors.js';
import { createGraphClient, graphRetryOptionsSchema } from './graphClient.js';
import { graphFailure } from './graphFailure.js';
import type { QueueMembersPort } from './presencePort.js';

/** Largest page Graph serves for membership lists; fewer pages, fewer throttling chances. */
export const MEMBERS_PAGE_SIZE = 999;

const isFunction = (value: unknown): boolean => typeof value === 'function';

export const graphQueueMembersOptionsSchema = z.strictObject({
  credential: z.custom<TokenCredential>(
    (value) => typeof value === 'object' && value !== null && isFunction((value as { getToken?: unknown }).getToken),
    'expected a TokenCredential from @azure/identity (an object with getToken)',
  ),
  retry: graphRetryOptionsSchema.prefault({}),
  /** Stops a runaway paging loop: 1,000 pages of 999 is far beyond any contact-center queue. */
  maxPages: z.int().min(1).max(10_000).default(1_000),
});
export type GraphQueueMembersOptionsInput = z.input<typeof graphQueueMembersOptionsSchema>;

const membersPageSchema = z.object({
  value: z.array(z.object({ id: z.string() })),
  '@odata.nextLink': z.string().optional(),
});

const groupIdSchema = z.uuid();

/**
 * A queue's representatives from its Entra group, nested groups included:
 * `GET /groups/{id}/transitiveMembers/microsoft.graph.user?$select=id`, following `@odata.nextLink`
 * (application permission GroupMember.Read.All). The OData cast to users is an advanced query, hence
 * `ConsistencyLevel: eventual` and `$count=true`: membership changes can take a short while to show.
 */
export class GraphQueueMembers implements QueueMembersPort {
  private readonly client: Client;
  private readonly maxPages: number;

  constructor(input: GraphQueueMembersOptionsInput) {
    const parsed = graphQueueMembersOptionsSchema.safeParse(input);
    if (!parsed.success) {
      const issues = toFieldIssues(parsed.error);
      const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      throw new UserError('InvalidSettings', `invalid Graph queue members options: ${list}`, issues);
    }
    this.client = createGraphClient({ credential: parsed.data.credential, retry: parsed.data.retry });
    this.maxPages = parsed.data.maxPages;
  }

  async listGroupMembers(groupId: string): Promise<string[]> {
    if (!groupIdSchema.safeParse(groupId).success) {
      throw new UserError('InvalidRequest', `entraGroupId "${groupId}" is not an Entra object id (a GUID)`);
    }
    const operation = `Graph transitiveMembers of group ${groupId}`;
    const members = new Set<string>();
    const seenLinks = new Set<string>();
    try {
      let page = (await this.client
        .api(`/groups/${groupId}/transitiveMembers/microsoft.graph.user`)
        .header('ConsistencyLevel', 'eventual')
        .count(true)
        .select('id')
        .top(MEMBERS_PAGE_SIZE)
        .get()) as unknown;
      for (let pages = 1; ; pages += 1) {
        const parsed = membersPageSchema.safeParse(page);
        if (!parsed.success) {
          const problem = parsed.error.issues[0]?.message ?? 'invalid';
          throw new SystemError('DependencyFailed', `${operation}: unexpected page shape (${problem})`, false);
        }
        for (const member of parsed.data.value) members.add(member.id);
        const next = parsed.data['@odata.nextLink'];
        if (next === undefined) break;
        if (seenLinks.has(next) || pages >= this.maxPages) {
          throw new SystemError('DependencyFailed', `${operation}: paging did not end after ${pages} pages`, false);
        }
        seenLinks.add(next);
        page = (await this.client.api(next).header('ConsistencyLevel', 'eventual').get()) as unknown;
      }
    } catch (thrown) {
      throw graphFailure(thrown, operation, 'GroupMember.Read.All');
    }
    return [...members];
  }
}

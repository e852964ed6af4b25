import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import { toFieldIssues, UserError } from '../errors.js';
import { errorResponse } from '../httpApi/errorResponse.js';
import { restartEngagement } from '../pacing/pacingState.js';
import { readItems } from '../intake/readContacts.js';
import { describeEngagementStatus, type StatusDeps } from './engagementStatus.js';
import { callEventSchema } from '../store/dispatch/outcomeStore.js';
import { recordOutcome, type OutcomeDeps } from './recordOutcome.js';

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

export interface DispatchRuntime {
  readonly catalog: EngagementCatalog;
  readonly outcomeDeps: OutcomeDeps;
  readonly statusDeps: StatusDeps;
  readonly clock: () => number;
}

/** Most call events accepted in one request. */
const MAX_EVENTS = 1_000;

/**
 * `POST /api/call-events`: outcomes reported by the contact center (a Dataverse webhook or Power
 * Automate flow on msdyn_proactive_delivery changes), one event or an array. Each is applied once;
 * repeats are counted, not re-applied.
 */
export function callEventsHandler(getRuntime: () => Promise<DispatchRuntime>): Handler {
  return async (request, context) => {
    try {
      const runtime = await getRuntime();
      const events = await readItems(request.body, 'json', callEventSchema, { maxItems: MAX_EVENTS });
      const unknown = events.map((e, i) => ({ e, i })).filter(({ e }) => !runtime.catalog.engagements.has(e.engagementId));
      if (unknown.length > 0) {
        throw new UserError(
          'InvalidRequest',
          'call events name engagements that are not configured',
          unknown.map(({ e, i }) => ({ path: `[${i}].engagementId`, message: `unknown engagement "${e.engagementId}"` })),
        );
      }
      const counts = { recorded: 0, merged: 0, duplicate: 0, unknownDelivery: 0 };
      for (const event of events) {
        const outcome = await recordOutcome(runtime.outcomeDeps, event);
        if (outcome.status === 'recorded') counts.recorded++;
        else if (outcome.status === 'merged') counts.merged++;
        else if (outcome.status === 'duplicate') counts.duplicate++;
        else counts.unknownDelivery++;
      }
      context.log(`call events: ${events.length} received, ${counts.recorded} recorded, ${counts.merged} completing earlier reports, ${counts.duplicate} repeats, ${counts.unknownDelivery} for unknown deliveries`);
      return { status: 202, jsonBody: counts };
    } catch (error) {
      return errorResponse(error, context);
    }
  };
}

/** `GET /api/engagements/{engagementId}/status`: state, counts, rates and the recent pacing decisions. */
export function engagementStatusHandler(getRuntime: () => Promise<DispatchRuntime>): Handler {
  return async (request, context) => {
    try {
      const runtime = await getRuntime();
      const id = request.params['engagementId'] ?? '';
      const engagement = runtime.catalog.engagements.get(id);
      if (engagement === undefined) throw new UserError('EngagementNotFound', `no engagement with id "${id}"`);
      return { status: 200, jsonBody: await describeEngagementStatus(runtime.statusDeps, engagement, runtime.clock()) };
    } catch (error) {
      return errorResponse(error, context);
    }
  };
}

const restartBodySchema = z.object({ reason: z.string().min(1).max(500) });

/**
 * `POST /api/engagements/{engagementId}/restart` (admin key): lifts a stop (agent failure policy) or a
 * pause-until-restart (abandonment rule); outcomes before now stop counting for them.
 */
export function engagementRestartHandler(getRuntime: () => Promise<DispatchRuntime>): Handler {
  return async (request, context) => {
    try {
      const runtime = await getRuntime();
      const id = request.params['engagementId'] ?? '';
      if (!runtime.catalog.engagements.has(id)) throw new UserError('EngagementNotFound', `no engagement with id "${id}"`);
      const body = restartBodySchema.safeParse(await request.json().catch(() => undefined));
      if (!body.success) throw new UserError('InvalidRequest', 'a restart needs a reason', toFieldIssues(body.error));
      const store = runtime.statusDeps.stateStore;
      for (let attempt = 0; attempt < 5; attempt++) {
        const { state, etag } = await store.load();
        if (await store.save(restartEngagement(state, id, new Date(runtime.clock())), etag)) {
          context.log(`engagement ${id} restarted: ${body.data.reason}`);
          return { status: 200, jsonBody: { engagementId: id, restarted: true } };
        }
      }
      throw new UserError('Throttled', 'pacing state kept changing; try again');
    } catch (error) {
      return errorResponse(error, context);
    }
  };
}

import { z } from 'zod';
import { callEventSchema, type CallEvent } from '../contacts/callEvent.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import { toFieldIssues, UserError } from '../errors.js';
import { httpFunction, type HttpFunctionHandler } from '../httpApi/httpFunction.js';
import { restartEngagement } from '../pacing/pacingState.js';
import { readItems } from '../intake/readContacts.js';
import { describeEngagementStatus, type StatusDeps } from './engagementStatus.js';
import type { PacingStateStore } from '../store/dispatch/pacingStateStore.js';
import { outcomeTimeIssues, type OutcomeRecording } from './recordOutcome.js';
import { CALL_EVENTS_SIGNATURE_HEADER, verifyCallEventsSignature } from './callEventsSignature.js';
import { readBodyBytes } from '../httpApi/readBodyBytes.js';
import { acceptOffer, type PacingTickDeps } from './runPacingTick.js';

/** What the call-events function uses. */
export interface CallEventsDeps {
  readonly catalog: EngagementCatalog;
  readonly record: (event: CallEvent) => Promise<OutcomeRecording>;
  /** Most call events in one request; more is a 413. */
  readonly maxEvents: number;
  /** CALL_EVENTS_SIGNING_SECRET: when set, every request must carry a valid signature (401 otherwise). */
  readonly signingSecret?: string | undefined;
  readonly clock?: () => number;
}

/** Bytes one call event may take in a request: a full event is well under 1 KiB. */
const MAX_EVENT_BYTES = 2_048;

/** What the engagement status function uses. */
export interface EngagementStatusDeps {
  readonly catalog: EngagementCatalog;
  readonly status: StatusDeps;
  readonly clock: () => number;
}

/** What the engagement restart function uses. */
export interface EngagementRestartDeps {
  readonly catalog: EngagementCatalog;
  readonly stateStore: Pick<PacingStateStore, 'load' | 'save'>;
  readonly clock: () => number;
}

/**
 * `POST /api/call-events`: outcomes reported by the contact center (a Dataverse webhook or Power
 * Automate flow on msdyn_proactive_delivery changes), one event or an array. Each is applied once;
 * repeats are counted, not re-applied.
 */
export function callEventsHandler(deps: () => Promise<CallEventsDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ catalog, record, maxEvents, signingSecret, clock }, request, context) => {
    const now = clock?.() ?? Date.now();
    // The signature covers the raw bytes, so the body is read whole (bounded) before anything is parsed.
    const raw = await readBodyBytes(request.body, maxEvents * MAX_EVENT_BYTES + 2);
    if (signingSecret !== undefined) {
      const check = verifyCallEventsSignature(signingSecret, request.headers.get(CALL_EVENTS_SIGNATURE_HEADER), raw, now);
      if (!check.ok) throw new UserError('Unauthorized', `call events refused: ${check.reason}`);
    }
    const events = await readItems(raw.length === 0 ? null : new Blob([raw]).stream(), 'json', callEventSchema, { maxItems: maxEvents });
    const issues = events.flatMap((e, i) => [
      ...(catalog.engagements.has(e.engagementId) ? [] : [{ path: `[${i}].engagementId`, message: `unknown engagement "${e.engagementId}"` }]),
      ...outcomeTimeIssues(e, now, `[${i}].`),
    ]);
    // All or nothing: one event the request cannot mean changes nothing for the others.
    if (issues.length > 0) throw new UserError('InvalidRequest', 'call events name unknown engagements or implausible times', issues);
    const counts = { recorded: 0, merged: 0, duplicate: 0, unknownDelivery: 0, refused: 0 };
    const refused: { index: number; reason: string }[] = [];
    for (const [index, event] of events.entries()) {
      const outcome = await record(event);
      if (outcome.status === 'recorded') counts.recorded++;
      else if (outcome.status === 'merged') counts.merged++;
      else if (outcome.status === 'duplicate') counts.duplicate++;
      else if (outcome.status === 'unknown-delivery') counts.unknownDelivery++;
      else {
        counts.refused++;
        refused.push({ index, reason: outcome.reason });
      }
    }
    context.log(
      `call events: ${events.length} received, ${counts.recorded} recorded, ${counts.merged} completing earlier reports, ${counts.duplicate} repeats, ${counts.unknownDelivery} for unknown deliveries, ${counts.refused} refused`,
    );
    if (counts.refused > 0 && counts.refused === events.length) {
      throw new UserError(
        'OutcomeRefused',
        'no call event is for an attempt in flight',
        refused.map(({ index, reason }) => ({ path: `[${index}]`, message: reason })),
      );
    }
    return { status: 202, jsonBody: refused.length === 0 ? counts : { ...counts, refusedEvents: refused } };
  });
}

/** `GET /api/engagements/{engagementId}/status`: state, counts, rates and the recent pacing decisions. */
export function engagementStatusHandler(deps: () => Promise<EngagementStatusDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ catalog, status, clock }, request) => {
    const id = request.params['engagementId'] ?? '';
    const engagement = catalog.engagements.get(id);
    if (engagement === undefined) throw new UserError('EngagementNotFound', `no engagement with id "${id}"`);
    return { status: 200, jsonBody: await describeEngagementStatus(status, engagement, clock()) };
  });
}

const restartBodySchema = z.object({ reason: z.string().min(1).max(500) });

/**
 * `POST /api/engagements/{engagementId}/restart` (admin key): lifts a stop (agent failure policy) or a
 * pause-until-restart (abandonment rule); outcomes before now stop counting for them.
 */
export function engagementRestartHandler(deps: () => Promise<EngagementRestartDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ catalog, stateStore, clock }, request, context) => {
    const id = request.params['engagementId'] ?? '';
    if (!catalog.engagements.has(id)) throw new UserError('EngagementNotFound', `no engagement with id "${id}"`);
    const body = restartBodySchema.safeParse(await request.json().catch(() => undefined));
    if (!body.success) throw new UserError('InvalidRequest', 'a restart needs a reason', toFieldIssues(body.error));
    for (let attempt = 0; attempt < 5; attempt++) {
      const { state, etag } = await stateStore.load();
      if (await stateStore.save(restartEngagement(state, id, new Date(clock())), etag)) {
        context.log(`engagement ${id} restarted: ${body.data.reason}`);
        return { status: 200, jsonBody: { engagementId: id, restarted: true } };
      }
    }
    throw new UserError('Throttled', 'pacing state kept changing; try again');
  });
}

/** What the preview accept function uses. */
export interface DeliveryAcceptDeps {
  readonly catalog: EngagementCatalog;
  readonly tick: PacingTickDeps;
  readonly clock: () => number;
}

const acceptBodySchema = z.strictObject({ representativeId: z.string().min(1).max(100) });

/**
 * `POST /api/engagements/{engagementId}/deliveries/{deliveryId}/accept` (function key): the
 * representative a preview delivery (`start: manual`) was offered to accepts it, and the call is handed
 * over. 409 when there is no open offer, it lapsed, or it is someone else's.
 */
export function deliveryAcceptHandler(deps: () => Promise<DeliveryAcceptDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ catalog, tick, clock }, request, context) => {
    const id = request.params['engagementId'] ?? '';
    const engagement = catalog.engagements.get(id);
    if (engagement === undefined) throw new UserError('EngagementNotFound', `no engagement with id "${id}"`);
    const body = acceptBodySchema.safeParse(await request.json().catch(() => undefined));
    if (!body.success) throw new UserError('InvalidRequest', 'an accept needs the representativeId', toFieldIssues(body.error));
    const deliveryId = request.params['deliveryId'] ?? '';
    const result = await acceptOffer({ ...tick, log: (line) => context.log(line) }, engagement, deliveryId, body.data.representativeId, clock());
    if (result.status === 'refused') throw new UserError('Conflict', result.reason);
    return { status: 200, jsonBody: { engagementId: id, deliveryId, ...result } };
  });
}

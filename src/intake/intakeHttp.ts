import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { contactInputSchema } from '../contacts/contactInput.js';
import { toFieldIssues, UserError } from '../errors.js';
import { httpFunction, type HttpFunctionHandler } from '../httpApi/httpFunction.js';
import type { ContactInput } from '../contacts/contactInput.js';
import type { TriggerContact } from '../planning/planDeliveries.js';
import type { AcceptedTrigger, IntakeService } from './intakeService.js';
import { journeySourceKey } from './intakeService.js';
import { applyFieldMap } from './fieldMap.js';
import { journeyEventSchema } from './journeyEvent.js';
import { bodyFormat, readItems, type BodyFormat } from './readContacts.js';
import { readValidatedPage } from './readValidatedPage.js';
import { segmentPageParamsSchema } from './segmentPageParams.js';

/** What the journey-events function uses. */
export interface JourneyEventsDeps {
  readonly intake: IntakeService;
  /** Most events in one request; more is a 413. */
  readonly maxEvents: number;
}

/** What the segment-members and preview functions use. */
export interface ContactPageDeps {
  readonly intake: IntakeService;
  /** Most contacts in one request; more is a 413. */
  readonly maxPageSize: number;
}

function engagementIdOf(request: HttpRequest): string {
  const id = request.params['engagementId'];
  if (id === undefined || id === '') throw new UserError('InvalidRequest', 'the route needs an engagement id');
  return id;
}

/** Checks the engagement exists before the body is read: an unknown engagement is a 404 even with a bad body. */
function knownEngagement(intake: IntakeService, request: HttpRequest): string {
  const id = engagementIdOf(request);
  intake.engagement(id);
  return id;
}

/** `POST /api/engagements/{engagementId}/journey-events`: one journey event or an array of them. */
export function journeyEventsHandler(deps: () => Promise<JourneyEventsDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ intake, maxEvents }, request, context) => {
    const engagementId = knownEngagement(intake, request);
    // The engagement's field map turns what a flow posts (a custom trigger's payload, a Dataverse row) into a journey event first.
    const fieldMap = intake.engagement(engagementId).engagement.customerInsights?.fieldMap;
    const mapped = z
      .unknown()
      .transform((record) => applyFieldMap(record, fieldMap))
      .pipe(journeyEventSchema);
    const events = await readItems(request.body, 'json', mapped, { maxItems: maxEvents });
    if (events.length === 0)
      throw new UserError('InvalidRequest', 'no journey events in the body', [{ path: '(root)', message: 'expected at least one event' }]);
    const result = await intake.accept(engagementId, {
      sourceKey: journeySourceKey(events.map((e) => e.eventId)),
      contacts: events.map(({ eventId, journeyId, ...contact }) => ({
        contact,
        source: `event:${eventId}`,
        journey: { journeyId, attributes: contact.attributes },
      })),
    });
    context.log(
      `journey events accepted: engagement=${engagementId} trigger=${result.triggerId} accepted=${result.accepted} skipped=${JSON.stringify(result.skipped)} batches=${result.batches}`,
    );
    return { status: 202, jsonBody: result };
  });
}

/**
 * `POST /api/engagements/{engagementId}/segment-members?segmentId=&exportRunId=&page=`: one page of a
 * segment export, as a JSON array or NDJSON (`Content-Type: application/x-ndjson`).
 */
export function segmentMembersHandler(deps: () => Promise<ContactPageDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ intake, maxPageSize }, request, context) => {
    const engagementId = knownEngagement(intake, request);
    const params = segmentPageParamsSchema.safeParse(Object.fromEntries(request.query.entries()));
    if (!params.success) throw new UserError('InvalidRequest', 'segment page parameters are missing or invalid', toFieldIssues(params.error, 'query'));
    const { segmentId, exportRunId, page } = params.data;
    const source = `segment:${segmentId}/${exportRunId}/${page}`;
    const result = await acceptSegmentPage(intake, engagementId, source, request.body, bodyFormat(request.headers.get('content-type')), maxPageSize);
    context.log(
      `segment page accepted: engagement=${engagementId} ${source} trigger=${result.triggerId} received=${result.received} accepted=${result.accepted} skipped=${JSON.stringify(result.skipped)} batches=${result.batches}`,
    );
    return { status: 202, jsonBody: result };
  });
}

/**
 * Takes one segment page from its body: every member is checked in a first pass over the streamed bytes
 * (any bad member is a 400 and nothing happens), then the page is planned, reserved and published from
 * the kept bytes a slice at a time, so neither the page nor its accepted contacts are held.
 */
export async function acceptSegmentPage(
  intake: Pick<IntakeService, 'accept'>,
  engagementId: string,
  source: string,
  body: AsyncIterable<Uint8Array> | null,
  format: BodyFormat,
  maxPageSize: number,
): Promise<AcceptedTrigger> {
  const members = await readValidatedPage(body, format, contactInputSchema, { maxItems: maxPageSize, idOf: (contact) => contact.contactId });
  try {
    return await intake.accept(engagementId, { sourceKey: source, contacts: asTriggerContacts(members.items(), source), firstSeen: members.firstSeen });
  } finally {
    await members.dispose();
  }
}

/** `POST /api/engagements/{engagementId}/preview`: the plan for these contacts, published nowhere. */
export function previewHandler(deps: () => Promise<ContactPageDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ intake, maxPageSize }, request) => {
    const engagementId = knownEngagement(intake, request);
    const contacts = await readItems(request.body, bodyFormat(request.headers.get('content-type')), contactInputSchema, { maxItems: maxPageSize });
    const summary = await intake.preview(
      engagementId,
      contacts.map((contact) => ({ contact, source: 'preview' })),
    );
    return { status: 200, jsonBody: summary };
  });
}

async function* asTriggerContacts(contacts: AsyncIterable<ContactInput>, source: string): AsyncGenerator<TriggerContact> {
  for await (const contact of contacts) yield { contact, source };
}

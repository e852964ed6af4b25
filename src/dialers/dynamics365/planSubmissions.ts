import type { DialRequest } from '../dialerPort.js';
import { bulkRequestId, dynamicsRequestId } from './dynamicsRequestId.js';
import { type ProactiveContact, toProactiveContact } from './toProactiveContact.js';

/**
 * The priority D365 applies to a delivery that carries none. Bulk requests have no Priority
 * parameter, so only deliveries at this priority may go in bulk. (The value is an assumption:
 * Microsoft does not document what an absent Priority means; the single-delivery sample uses "1",
 * our `normal` rank.)
 */
export const BULK_IMPLIED_PRIORITY = 1;

/** Body of CCaaS_CreateProactiveDelivery: top-level parameters, `Contacts` a serialised JSON array. */
export interface SingleDeliveryBody {
  readonly ApiVersion: string;
  readonly ProactiveEngagementConfigId: string;
  readonly RequestId: string;
  readonly Priority: string;
  readonly Contacts: string;
}

/** One record of CCaaS_CreateProactiveDeliveryBulkV2's `ProactiveDeliveries` (note `timeZone`, not `timezone`). */
export interface BulkDeliveryRecord {
  readonly uniqueIdentifier: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly mobilePhoneNumber: string;
  readonly businessPhoneNumber?: string;
  readonly timeZone: string;
}

/** Body of CCaaS_CreateProactiveDeliveryBulkV2: `ProactiveDeliveries` a serialised JSON array. */
export interface BulkDeliveryBody {
  readonly ApiVersion: string;
  readonly ProactiveEngagementConfigId: string;
  readonly ProactiveDeliveries: string;
  readonly RequestId: string;
}

export interface SingleSubmission {
  readonly request: DialRequest;
  readonly body: SingleDeliveryBody;
}

export interface BulkSubmission {
  readonly requests: readonly DialRequest[];
  readonly body: BulkDeliveryBody;
  /** The same deliveries as single requests, sent instead when D365 refuses the chunk as a whole. */
  fallback(): SingleSubmission[];
}

export interface SubmissionPlan {
  readonly rejected: ReadonlyArray<{ readonly request: DialRequest; readonly reason: string }>;
  readonly singles: readonly SingleSubmission[];
  readonly bulks: readonly BulkSubmission[];
}

export interface PlanSubmissionsOptions {
  readonly apiVersion: string;
  readonly useBulk: boolean;
  readonly bulkChunkSize: number;
}

/**
 * Decides how each dial request reaches Dynamics 365: rejected here (it cannot be expressed), sent
 * alone through CCaaS_CreateProactiveDelivery, or batched into CCaaS_CreateProactiveDeliveryBulkV2.
 *
 * Bulk V2 records have no input attributes, windows, priority, email or home number and require a
 * mobile number and both names, so a request goes in bulk only when the bulk shape carries
 * everything that matters for the call (email is dropped: voice never uses it). Bulk requests are
 * grouped by engagement config (one config per request) and cut into chunks of `bulkChunkSize`,
 * in input order.
 */
export function planSubmissions(requests: readonly DialRequest[], options: PlanSubmissionsOptions): SubmissionPlan {
  const rejected: Array<{ request: DialRequest; reason: string }> = [];
  const singles: SingleSubmission[] = [];
  const bulkGroups = new Map<string, Array<{ request: DialRequest; record: BulkDeliveryRecord; contact: ProactiveContact }>>();

  for (const request of requests) {
    const configId = request.dynamicsConfigId;
    if (configId === undefined || configId === '') {
      rejected.push({
        request,
        reason:
          `engagement "${request.engagementId}" has no dynamicsConfigId (the msdyn_proactive_engagement_config id); ` +
          'set engagements[].dynamicsConfigId to dial through Dynamics 365',
      });
      continue;
    }
    const conversion = toProactiveContact(request);
    if (!conversion.ok) {
      rejected.push({ request, reason: conversion.reason });
      continue;
    }
    const record = options.useBulk ? toBulkRecord(request, conversion.contact) : undefined;
    if (record === undefined) {
      singles.push(toSingleSubmission(request, configId, conversion.contact, options.apiVersion));
      continue;
    }
    const group = bulkGroups.get(configId) ?? [];
    group.push({ request, record, contact: conversion.contact });
    bulkGroups.set(configId, group);
  }

  const bulks: BulkSubmission[] = [];
  for (const [configId, members] of bulkGroups) {
    for (let offset = 0; offset < members.length; offset += options.bulkChunkSize) {
      const chunk = members.slice(offset, offset + options.bulkChunkSize);
      const chunkRequests = chunk.map((m) => m.request);
      bulks.push({
        requests: chunkRequests,
        body: {
          ApiVersion: options.apiVersion,
          ProactiveEngagementConfigId: configId,
          ProactiveDeliveries: JSON.stringify(chunk.map((m) => m.record)),
          RequestId: bulkRequestId(chunkRequests),
        },
        fallback: () => chunk.map((m) => toSingleSubmission(m.request, configId, m.contact, options.apiVersion)),
      });
    }
  }
  return { rejected, singles, bulks };
}

function toSingleSubmission(request: DialRequest, configId: string, contact: ProactiveContact, apiVersion: string): SingleSubmission {
  return {
    request,
    body: {
      ApiVersion: apiVersion,
      ProactiveEngagementConfigId: configId,
      RequestId: dynamicsRequestId(request.deliveryId, request.attempt),
      Priority: String(request.priority),
      Contacts: JSON.stringify([contact]),
    },
  };
}

/** The bulk record for a request, or undefined when the bulk shape would lose something the call needs. */
function toBulkRecord(request: DialRequest, contact: ProactiveContact): BulkDeliveryRecord | undefined {
  if (contact.inputAttributes !== undefined || contact.windows !== undefined) return undefined;
  if (request.priority !== BULK_IMPLIED_PRIORITY) return undefined;
  if (contact.homePhoneNumber !== undefined || contact.mobilePhoneNumber === undefined) return undefined;
  if (!contact.firstName || !contact.lastName) return undefined;
  return {
    uniqueIdentifier: contact.uniqueIdentifier,
    firstName: contact.firstName,
    lastName: contact.lastName,
    mobilePhoneNumber: contact.mobilePhoneNumber,
    ...(contact.businessPhoneNumber === undefined ? {} : { businessPhoneNumber: contact.businessPhoneNumber }),
    timeZone: contact.timezone,
  };
}

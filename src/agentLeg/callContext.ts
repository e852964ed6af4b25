import { z } from 'zod';
import { IANAZone } from 'luxon';
import { formatPath, type FieldIssue } from '../errors.js';
import { copilotStudioFieldsSchema, COPILOT_STUDIO_PREFIX, pickCopilotStudioMembers } from './copilotStudioFields.js';
import type { InboundActivity } from './inboundActivity.js';

/**
 * Who the call is for and why: what the agent leg must know before it says a word. It arrives with the
 * conversation, the way Contact Center passes a delivery's input attributes to the agent (context
 * variables of the same name), in one of these carriers, first match wins:
 * 1. an `event` named `startConversation` (Omnichannel / Contact Center, Copilot Studio skills) or
 *    `omnichannelSetContext`, context in `value`;
 * 2. a `conversationUpdate` (Contact Center voice) with the context in `value` or `channelData.context`;
 * 3. any activity (the first `message` included) with the context in `channelData.context`, or in
 *    `value` when `value` names an `engagementId`.
 *
 * The context itself is either nested (`{ engagementId, deliveryId, attempt, firstName, timeZone,
 * attributes: {...} }`) or flat, as context variables are: the reserved names below, `va_*` (Copilot
 * Studio), `msdyn_*` (the hub's own, ignored), and every other member an input attribute.
 */
export const CONTEXT_EVENT_NAMES = ['startConversation', 'omnichannelSetContext'] as const;

/**
 * IANA zone names that passed validation. Luxon's check builds an Intl.DateTimeFormat each time
 * (about 0.3 ms); the context is re-validated on every turn (stored state is a boundary), and the
 * valid names are a small closed set, so they are remembered. Invalid names are not (unbounded input).
 */
const validZones = new Set<string>();
const contactZoneSchema = z.string().refine(
  (zone) => {
    if (validZones.has(zone)) return true;
    const valid = IANAZone.isValidZone(zone);
    if (valid) validZones.add(zone);
    return valid;
  },
  { message: 'expected an IANA time zone such as "Europe/Paris"' },
);

const RESERVED = ['engagementId', 'deliveryId', 'attempt', 'firstName', 'timeZone', 'locale', 'attributes'] as const;
const HUB_PREFIX = 'msdyn_';

const attributeValueSchema = z.union([z.string().max(2000), z.number(), z.boolean()], {
  error: 'expected a string, number or boolean',
});

/** Context variables are strings on some hubs: "2" is attempt 2. */
const attemptSchema = z
  .union([
    z.int(),
    z
      .string()
      .regex(/^\d{1,2}$/, 'expected a whole number')
      .transform(Number),
  ])
  .pipe(z.int().min(1, 'expected 1 or more').max(10, 'expected at most 10'));

export const callContextSchema = z.object({
  engagementId: z.string().min(1).max(63),
  deliveryId: z.string().min(1).max(200),
  attempt: attemptSchema,
  firstName: z.string().trim().min(1).max(100).optional(),
  /** The contact's IANA zone; callbacks are read in it. Required: a wrong zone moves a callback by hours. */
  timeZone: contactZoneSchema,
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/, 'expected a BCP 47 language tag such as "en-US"')
    .default('en-US'),
  attributes: z.record(z.string().min(1).max(100), attributeValueSchema).default({}),
  copilotStudio: copilotStudioFieldsSchema.optional(),
});
export type CallContext = z.output<typeof callContextSchema>;

/** The delivery a context names, when it names one (enough to record a BotFailed for an invalid context). */
export interface DeliveryIds {
  readonly engagementId: string;
  readonly deliveryId: string;
  readonly attempt: number;
}

export type CallContextRead =
  | { readonly kind: 'none' }
  | { readonly kind: 'valid'; readonly context: CallContext }
  | { readonly kind: 'invalid'; readonly issues: readonly FieldIssue[]; readonly ids?: DeliveryIds };

/** Finds and validates the call context an activity carries, if it carries one. */
export function readCallContext(activity: InboundActivity): CallContextRead {
  const carrier = findCarrier(activity);
  if (carrier === undefined) return { kind: 'none' };
  const { source, path } = carrier;
  if (!isRecord(source)) {
    return { kind: 'invalid', issues: [{ path, message: 'expected an object holding the call context' }] };
  }
  const candidate = toCandidate(source);
  const parsed = callContextSchema.safeParse(candidate);
  if (parsed.success) return { kind: 'valid', context: parsed.data };
  const ids = readIds(candidate);
  const flatAttributes = source['attributes'] === undefined;
  const flatCopilot = source['copilotStudio'] === undefined;
  const issues = parsed.error.issues.map((issue) => ({
    path: formatPath(toSentPath(issue.path, flatAttributes, flatCopilot), path),
    message: issue.message,
  }));
  return { kind: 'invalid', issues, ...(ids === undefined ? {} : { ids }) };
}

/** Issues in a flat context name the member the caller sent (`value.amount`), not our nested copy of it. */
function toSentPath(path: readonly PropertyKey[], flatAttributes: boolean, flatCopilot: boolean): readonly PropertyKey[] {
  const [head, ...rest] = path;
  if (head === 'attributes' && flatAttributes) return rest;
  if (head === 'copilotStudio' && flatCopilot) return rest;
  return path;
}

function findCarrier(activity: InboundActivity): { source: unknown; path: string } | undefined {
  const channelContext = isRecord(activity.channelData) ? activity.channelData['context'] : undefined;
  if (activity.type === 'event' && (CONTEXT_EVENT_NAMES as readonly string[]).includes(activity.name ?? '')) {
    if (activity.value !== undefined) return { source: parseJsonObject(activity.value), path: 'value' };
    if (activity.text !== undefined) return { source: parseJsonObject(activity.text), path: 'text' };
    return { source: undefined, path: 'value' };
  }
  if (activity.type === 'conversationUpdate' && activity.value !== undefined) {
    return { source: parseJsonObject(activity.value), path: 'value' };
  }
  if (channelContext !== undefined) return { source: parseJsonObject(channelContext), path: 'channelData.context' };
  if (isRecord(activity.value) && 'engagementId' in activity.value) return { source: activity.value, path: 'value' };
  return undefined;
}

/** Flat context variables become the nested shape; nested input is left as is. */
function toCandidate(source: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const copilot = pickCopilotStudioMembers(source);
  const nestedCopilot = isRecord(source['copilotStudio']) ? source['copilotStudio'] : {};
  const candidate: Record<string, unknown> = {};
  for (const key of RESERVED) if (source[key] !== undefined) candidate[key] = source[key];
  if (source['attributes'] === undefined) {
    const attributes: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(source)) {
      if ((RESERVED as readonly string[]).includes(key)) continue;
      if (key === 'copilotStudio' || key.startsWith(COPILOT_STUDIO_PREFIX) || key.startsWith(HUB_PREFIX)) continue;
      attributes[key] = value;
    }
    candidate['attributes'] = attributes;
  }
  const copilotStudio = { ...nestedCopilot, ...copilot };
  if (Object.keys(copilotStudio).length > 0) candidate['copilotStudio'] = copilotStudio;
  return candidate;
}

function readIds(candidate: Readonly<Record<string, unknown>>): DeliveryIds | undefined {
  const ids = z.object({ engagementId: z.string().min(1).max(63), deliveryId: z.string().min(1).max(200), attempt: attemptSchema }).safeParse(candidate);
  return ids.success ? ids.data : undefined;
}

/** Hubs sometimes carry the context as a JSON string (Omnichannel's `text`); anything else is returned as is. */
function parseJsonObject(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) return value;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return value;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

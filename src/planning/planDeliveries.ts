import { hash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { ContactInput } from '../contacts/contactInput.js';
import type { CallWindow, JourneyRef, PlannedContact, PlannedPhone } from '../contacts/plannedContact.js';
import { PRIORITY_RANK, type EngagementConfig, type PhoneType, type QueueConfig } from '../engagement/engagementSchema.js';
import { callOrderKey } from './callOrderKey.js';
import {
  computeCallingWindows,
  DEFAULT_WINDOW_MS,
  explainNoWindow,
  NO_WINDOW_CAUSES,
  ScheduleCache,
  type NoWindowCause,
  type WindowRules,
} from './callingWindows.js';
import { inferTimeZone } from './inferTimeZone.js';
import { checkE164 } from './e164Validator.js';
import { normalizePhone, type PhoneCheck } from './normalizePhone.js';
import { normalizeSpans, type Span } from './timeIntervals.js';

export const SKIP_REASONS = [
  'duplicate',
  'do-not-contact',
  'no-callable-number',
  'invalid-phone',
  'frequency-limit-day',
  'frequency-limit-week',
  'no-window-requested-window',
  'no-window-legal-hours',
  'no-window-queue-hours',
  'no-window-quiet-hours',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface SkippedContact {
  readonly contactId: string;
  readonly reason: SkipReason;
}

/** A contact from a trigger, with where it came from (`event:<id>` or the segment page). */
export interface TriggerContact {
  readonly contact: ContactInput;
  readonly source: string;
  /** The journey a journey event came from, carried on the delivery. */
  readonly journey?: JourneyRef;
}

/** What planning reads from the stores; loaded by the intake adapter before the pure plan runs. */
export interface PlanningState {
  /** True when the E.164 number or `contact:<contactId>` is on the do-not-contact list. */
  isDoNotContact(key: string): boolean;
  /** Instants (epoch ms) of this contact's recent engagements, across engagements and channels. */
  recentEngagements(contactId: string): readonly number[];
  /** The trigger that has this contact pending in this engagement, if any. */
  pendingTrigger(contactId: string): string | undefined;
  /** True when an earlier slice of the same trigger already had this contact (a large trigger planned in slices). */
  inEarlierSlice?(contactId: string): boolean;
}

export interface PlanInput {
  readonly engagement: EngagementConfig;
  /** The engagement's primary queue (operating hours). */
  readonly queue: QueueConfig;
  readonly triggerId: string;
  readonly contacts: readonly TriggerContact[];
  readonly state: PlanningState;
  readonly now: number;
  /** Position of `contacts[0]` in its trigger, when a large trigger is planned in slices (default 0). */
  readonly firstIndex?: number;
  /** Numbers already checked ({@link checkPhones}), by the text given: each is normalised once per trigger. */
  readonly phoneChecks?: ReadonlyMap<string, PhoneCheck>;
}

export interface Plan {
  /** Accepted contacts, each with its position in the trigger. */
  readonly planned: readonly { readonly index: number; readonly contact: PlannedContact }[];
  readonly skipped: readonly SkippedContact[];
  readonly skippedCounts: Readonly<Record<SkipReason, number>>;
}

/** Requested windows further ahead than this are clipped (the dialer never looks further). */
const HORIZON_MS = 31 * 86_400_000;

/**
 * Decides, for every contact of a trigger, whether and when it may be called for the engagement:
 * pure in (input, state, now). Skips carry one reason each, checked in a fixed order: duplicate,
 * do-not-contact, no callable number, invalid phone, frequency limits, no window. A contact left
 * without a window is skipped with the rule that closed it (`no-window-<cause>`, see
 * {@link explainNoWindow}); with several phones, the one that got furthest through the rules names it.
 */
export function planDeliveries(input: PlanInput): Plan {
  const { engagement, state, now } = input;
  const horizon = latestWindowEnd(input.contacts, now);
  const cache = new ScheduleCache(now, horizon);
  const defaultRequested: Span[] = [{ start: now, end: now + DEFAULT_WINDOW_MS }];
  const rulesFor = new Map<PhoneType, WindowRules>();
  const rules = (type: PhoneType): WindowRules => {
    let hit = rulesFor.get(type);
    if (hit === undefined) {
      hit = {
        legalHours: engagement.legalHours,
        queueHours: engagement.operatingHours.allowOutsideQueueHours ? undefined : input.queue.operatingHours,
        quietHours: engagement.quietHours[type] ?? [],
      };
      rulesFor.set(type, hit);
    }
    return hit;
  };
  // Contacts in one zone with the same requested windows get the same windows per phone type, and the
  // same merged windows per set of phones: computed once per run, the ISO strings shared, so a contact
  // costs map lookups rather than span arithmetic and string building.
  const windowMemo = new Map<string, Map<string, Map<PhoneType, PhoneWindows>>>();
  /** The per-type windows of one zone and requested windows (looked up once per contact, not per phone). */
  const windowsByType = (requestedKey: string, zone: string): Map<PhoneType, PhoneWindows> => {
    let byRequest = windowMemo.get(zone);
    if (byRequest === undefined) windowMemo.set(zone, (byRequest = new Map<string, Map<PhoneType, PhoneWindows>>()));
    let byType = byRequest.get(requestedKey);
    if (byType === undefined) byRequest.set(requestedKey, (byType = new Map<PhoneType, PhoneWindows>()));
    return byType;
  };
  const windowsFor = (byType: Map<PhoneType, PhoneWindows>, requested: readonly Span[], zone: string, type: PhoneType): PhoneWindows => {
    let hit = byType.get(type);
    if (hit === undefined) {
      const spans = computeCallingWindows(requested, zone, rules(type), now, cache);
      hit = { spans, windows: spans.map(toWindow), merged: new Map() };
      byType.set(type, hit);
    }
    return hit;
  };
  const phoneChecks = input.phoneChecks;
  const localChecks = new Map<string, PhoneCheck>();
  const defaultCountry = engagement.defaultCountry;
  const check = (raw: string): PhoneCheck => {
    if (phoneChecks !== undefined) {
      const given = phoneChecks.get(raw);
      if (given !== undefined) return given;
    }
    // E.164 text is checked directly (cheaper than a map of every number of the page); other text is
    // remembered per run (and per process in normalizePhone).
    let checked = checkE164(raw) ?? localChecks.get(raw);
    if (checked === undefined) {
      checked = normalizePhone(raw, defaultCountry);
      localChecks.set(raw, checked);
    }
    return checked;
  };
  // Zones resolved once per distinct given zone or (inferred) first number: no object per contact.
  const inferred = new Map<string, ResolvedZone>();
  const givenZones = new Map<string | undefined, ResolvedZone>();
  const zoneOf = (given: string | undefined, firstNumber: string): ResolvedZone => {
    const byNumber = given === undefined && engagement.timeZonePolicy === 'contact-else-inferred';
    let hit = byNumber ? inferred.get(firstNumber) : givenZones.get(given);
    if (hit === undefined) {
      hit = resolveZone(engagement, given, firstNumber, now);
      if (byNumber) inferred.set(firstNumber, hit);
      else givenZones.set(given, hit);
    }
    return hit;
  };
  const seen = new Set<string>();
  const planned: { index: number; contact: PlannedContact }[] = [];
  const skipped: SkippedContact[] = [];
  const skippedCounts = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
  const skip = (contactId: string, reason: SkipReason) => {
    skipped.push({ contactId, reason });
    skippedCounts[reason]++;
  };
  const phoneOrder = engagement.phoneOrder;
  const callableTypes: PhoneType[] = [];
  const callableNumbers: string[] = [];
  const priority = PRIORITY_RANK[engagement.priority];

  const firstIndex = input.firstIndex ?? 0;
  const contacts = input.contacts;
  for (let position = 0; position < contacts.length; position++) {
    const { contact, source, journey } = contacts[position] as TriggerContact;
    const index = firstIndex + position;
    const id = contact.contactId;
    const pendingIn = state.pendingTrigger(id);
    // One set operation: a repeat is a duplicate whatever the other checks say, so the id may be
    // remembered before them.
    const seenBefore = seen.size;
    seen.add(id);
    if (seen.size === seenBefore || state.inEarlierSlice?.(id) === true || (pendingIn !== undefined && pendingIn !== input.triggerId)) {
      skip(id, 'duplicate');
      continue;
    }
    if (state.isDoNotContact(`contact:${id}`)) {
      skip(id, 'do-not-contact');
      continue;
    }

    // The phones in the engagement's order: given, valid, then not on the do-not-contact list (kept
    // in arrays reused across contacts).
    let given = 0;
    let valid = 0;
    let callable = 0;
    for (const type of phoneOrder) {
      const raw = contact.phones[type];
      if (raw === undefined) continue;
      given++;
      const checked = check(raw);
      if (!checked.ok) continue;
      valid++;
      if (!state.isDoNotContact(checked.e164)) {
        callableTypes[callable] = type;
        callableNumbers[callable] = checked.e164;
        callable++;
      }
    }
    if (given === 0) {
      skip(id, 'no-callable-number');
      continue;
    }
    if (valid === 0) {
      skip(id, 'invalid-phone');
      continue;
    }
    if (callable === 0) {
      skip(id, 'do-not-contact');
      continue;
    }

    const zone = zoneOf(contact.timeZone, callableNumbers[0] as string);
    const recent = state.recentEngagements(id);
    const limit = recent.length === 0 ? undefined : frequencyLimitReached(engagement, recent, zone.name, now);
    if (limit !== undefined) {
      skip(id, limit);
      continue;
    }

    let requested: Span[] = defaultRequested;
    let requestedKey = 'default';
    if (contact.windows !== undefined) {
      requested = contact.windows.map((w) => ({ start: Date.parse(w.start), end: Date.parse(w.end) }));
      requestedKey = requested.map((r) => `${r.start}-${r.end}`).join(',');
    }
    const byType = windowsByType(requestedKey, zone.name);
    const phones: PlannedPhone[] = [];
    let merged: PhoneWindows | undefined;
    for (let p = 0; p < callable; p++) {
      const type = callableTypes[p] as PhoneType;
      const w = windowsFor(byType, requested, zone.name, type);
      if (w.spans.length === 0) continue;
      phones.push({ type, e164: callableNumbers[p] as string, windows: w.windows });
      if (merged === undefined) merged = w;
      else if (w.windows !== merged.windows) merged = mergeWindows(merged, w);
    }
    if (merged === undefined) {
      const causes = callableTypes.slice(0, callable).map((type) => explainNoWindow(requested, zone.name, rules(type), now, cache));
      skip(id, `no-window-${furthest(causes)}`);
      continue;
    }
    const key = callOrderKey(engagement.callOrder, {
      receivedAt: now,
      sequence: index,
      firstWindowEnd: (merged.spans[0] as Span).end,
      attributes: contact.attributes,
    });
    const deliveryId = deliveryIdFor(engagement.id, source, id);

    // Built in the message's property order, with optional fields left out rather than undefined. A
    // contact with all four optional fields (the usual case) is one object literal; the others are
    // built field by field (spreads of optional fields allocate a throwaway object per field).
    let built: Record<string, unknown>;
    const { firstName, lastName, email, locale } = contact;
    if (firstName !== undefined && lastName !== undefined && email !== undefined && locale !== undefined) {
      built = {
        contactId: id,
        firstName,
        lastName,
        email,
        locale,
        phones,
        timeZone: zone.name,
        timezoneInferred: zone.inferred,
        windows: merged.windows,
        attributes: contact.attributes,
        callOrderKey: key,
        priority,
        source,
        deliveryId,
      };
    } else {
      built = { contactId: id };
      if (firstName !== undefined) built['firstName'] = firstName;
      if (lastName !== undefined) built['lastName'] = lastName;
      if (email !== undefined) built['email'] = email;
      if (locale !== undefined) built['locale'] = locale;
      built['phones'] = phones;
      built['timeZone'] = zone.name;
      built['timezoneInferred'] = zone.inferred;
      built['windows'] = merged.windows;
      built['attributes'] = contact.attributes;
      built['callOrderKey'] = key;
      built['priority'] = priority;
      built['source'] = source;
      built['deliveryId'] = deliveryId;
    }
    if (journey !== undefined) built['journey'] = journey;
    planned.push({ index, contact: built as unknown as PlannedContact });
  }
  return { planned, skipped, skippedCounts };
}

interface ResolvedZone {
  readonly name: string;
  readonly inferred: boolean;
}

/** One phone type's windows for a zone and requested windows, and its unions with others' (memoised). */
interface PhoneWindows {
  readonly spans: Span[];
  readonly windows: CallWindow[];
  readonly merged: Map<PhoneWindows, PhoneWindows>;
}

/** The union of two phones' windows, remembered on the first so contacts sharing both share the result. */
function mergeWindows(a: PhoneWindows, b: PhoneWindows): PhoneWindows {
  let hit = a.merged.get(b);
  if (hit === undefined) {
    const spans = normalizeSpans([...a.spans, ...b.spans]);
    hit = { spans, windows: spans.map(toWindow), merged: new Map() };
    a.merged.set(b, hit);
  }
  return hit;
}

/**
 * Every number of the trigger's contacts, in the engagement's phone order, normalised once: what the
 * intake shell needs to ask the do-not-contact list about before planning, handed back to
 * {@link planDeliveries} as `phoneChecks`.
 */
export function checkPhones(engagement: EngagementConfig, contacts: readonly TriggerContact[]): Map<string, PhoneCheck> {
  const checks = new Map<string, PhoneCheck>();
  for (const { contact } of contacts) {
    for (const type of engagement.phoneOrder) {
      const raw = contact.phones[type];
      if (raw !== undefined && !checks.has(raw)) checks.set(raw, normalizePhone(raw, engagement.defaultCountry));
    }
  }
  return checks;
}

/** The do-not-contact keys a trigger's plan asks about: each contact, and each valid number. */
export function doNotContactKeysFor(contacts: readonly TriggerContact[], phoneChecks: ReadonlyMap<string, PhoneCheck>): Set<string> {
  const keys = new Set<string>();
  for (const { contact } of contacts) keys.add(`contact:${contact.contactId}`);
  for (const check of phoneChecks.values()) if (check.ok) keys.add(check.e164);
  return keys;
}

function furthest(causes: readonly NoWindowCause[]): NoWindowCause {
  return causes.reduce<NoWindowCause>((a, b) => (NO_WINDOW_CAUSES.indexOf(b) > NO_WINDOW_CAUSES.indexOf(a) ? b : a), 'requested-window');
}

function toWindow(span: Span): CallWindow {
  return { start: new Date(span.start).toISOString(), end: new Date(span.end).toISOString() };
}

function latestWindowEnd(contacts: readonly TriggerContact[], now: number): number {
  let latest = now + DEFAULT_WINDOW_MS;
  for (const { contact } of contacts) {
    for (const w of contact.windows ?? []) latest = Math.max(latest, Date.parse(w.end));
  }
  return Math.min(latest, now + HORIZON_MS);
}

/** The zone a contact's local rules are applied in, per the engagement's time-zone policy. */
export function resolveZone(
  engagement: EngagementConfig,
  given: string | undefined,
  firstNumber: string | undefined,
  now: number,
): { name: string; inferred: boolean } {
  switch (engagement.timeZonePolicy) {
    case 'utc':
      return { name: 'UTC', inferred: false };
    case 'contact-else-utc':
      return { name: given ?? 'UTC', inferred: false };
    case 'contact-else-inferred': {
      if (given !== undefined) return { name: given, inferred: false };
      const inferred = firstNumber === undefined ? undefined : inferTimeZone(firstNumber, new Date(now));
      return inferred === undefined ? { name: 'UTC', inferred: false } : { name: inferred, inferred: true };
    }
  }
}

/**
 * Whether the contact has already had as many engagements as the engagement allows today or this week,
 * counted in the contact's own calendar (local date, ISO week).
 */
export function frequencyLimitReached(
  engagement: EngagementConfig,
  recent: readonly number[],
  zone: string,
  now: number,
): 'frequency-limit-day' | 'frequency-limit-week' | undefined {
  const { perDay, perWeek } = engagement.frequencyLimits;
  if ((perDay === undefined && perWeek === undefined) || recent.length === 0) return undefined;
  const local = DateTime.fromMillis(now, { zone });
  const dayStart = local.startOf('day').toMillis();
  const dayEnd = local.endOf('day').toMillis();
  const weekStart = local.startOf('week').toMillis();
  const weekEnd = local.endOf('week').toMillis();
  let today = 0;
  let week = 0;
  for (const at of recent) {
    if (at >= dayStart && at <= dayEnd) today++;
    if (at >= weekStart && at <= weekEnd) week++;
  }
  if (perDay !== undefined && today >= perDay) return 'frequency-limit-day';
  if (perWeek !== undefined && week >= perWeek) return 'frequency-limit-week';
  return undefined;
}

/** When a contact over its limit may be engaged again: the next local day, or the next ISO week (Monday). */
export function frequencyLimitLiftsAt(limit: 'frequency-limit-day' | 'frequency-limit-week', zone: string, now: number): number {
  const local = DateTime.fromMillis(now, { zone });
  return (limit === 'frequency-limit-day' ? local.startOf('day').plus({ days: 1 }) : local.startOf('week').plus({ weeks: 1 })).toMillis();
}

const HEX_CODES = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const DASH = 45;
const deliveryIdScratch = Buffer.alloc(36);

/**
 * A stable id for calling this contact for this source in this engagement: the dial idempotency key.
 * The first 128 bits of SHA-256 over the three, as a lowercase 8-4-4-4-12 hex string, written into one
 * flat string (slicing and joining the hex digest leaves a tree of small strings per contact to collect).
 */
export function deliveryIdFor(engagementId: string, source: string, contactId: string): string {
  const digest = hash('sha256', `${engagementId}\n${source}\n${contactId}`, 'buffer') as unknown as Buffer;
  let at = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) deliveryIdScratch[at++] = DASH;
    const byte = digest[i] as number;
    deliveryIdScratch[at++] = HEX_CODES[byte >> 4] as number;
    deliveryIdScratch[at++] = HEX_CODES[byte & 15] as number;
  }
  return deliveryIdScratch.toString('latin1', 0, 36);
}

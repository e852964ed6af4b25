/**
 * The planner as it was before the speed work (per-contact allocations, window strings built per
 * contact, no phone memo), kept verbatim as an oracle: test/planning/planEquivalence.test.ts checks the
 * optimised planner gives the same plans on generated pages. Not used by the app.
 */
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { ContactInput } from '../../src/contacts/contactInput.js';
import type { CallWindow, JourneyRef, PlannedContact } from '../../src/contacts/plannedContact.js';
import { PRIORITY_RANK, type EngagementConfig, type PhoneType, type QueueConfig } from '../../src/engagement/engagementSchema.js';
import { callOrderKey } from './referenceCallOrderKey.js';
import {
  computeCallingWindows,
  DEFAULT_WINDOW_MS,
  explainNoWindow,
  NO_WINDOW_CAUSES,
  ScheduleCache,
  type NoWindowCause,
} from '../../src/planning/callingWindows.js';
import { inferTimeZone } from '../../src/planning/inferTimeZone.js';
import { normalizePhoneUncached as normalizePhone, type PhoneCheck } from '../../src/planning/normalizePhone.js';
import { normalizeSpans, type Span } from '../../src/planning/timeIntervals.js';

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
  const rules = {
    legalHours: engagement.legalHours,
    queueHours: engagement.operatingHours.allowOutsideQueueHours ? undefined : input.queue.operatingHours,
  };
  // Contacts in one zone with the same requested windows get the same windows per phone type:
  // computed once per run, and the ISO strings shared.
  const windowMemo = new Map<string, { spans: Span[]; windows: CallWindow[] }>();
  const windowsFor = (requested: readonly Span[], requestedKey: string, zone: string, type: PhoneType) => {
    const key = `${zone}|${type}|${requestedKey}`;
    let hit = windowMemo.get(key);
    if (hit === undefined) {
      const spans = computeCallingWindows(requested, zone, { ...rules, quietHours: engagement.quietHours[type] ?? [] }, now, cache);
      hit = { spans, windows: spans.map(toWindow) };
      windowMemo.set(key, hit);
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

  const firstIndex = input.firstIndex ?? 0;
  input.contacts.forEach(({ contact, source, journey }, position) => {
    const index = firstIndex + position;
    const id = contact.contactId;
    const pendingIn = state.pendingTrigger(id);
    if (seen.has(id) || state.inEarlierSlice?.(id) === true || (pendingIn !== undefined && pendingIn !== input.triggerId)) return skip(id, 'duplicate');
    seen.add(id);
    if (state.isDoNotContact(`contact:${id}`)) return skip(id, 'do-not-contact');

    const given = engagement.phoneOrder.flatMap((type) => {
      const raw = contact.phones[type];
      return raw === undefined ? [] : [{ type, raw }];
    });
    if (given.length === 0) return skip(id, 'no-callable-number');
    const valid: { type: PhoneType; e164: string }[] = [];
    for (const phone of given) {
      const checked = input.phoneChecks?.get(phone.raw) ?? normalizePhone(phone.raw, engagement.defaultCountry);
      if (checked.ok) valid.push({ type: phone.type, e164: checked.e164 });
    }
    if (valid.length === 0) return skip(id, 'invalid-phone');
    const callable = valid.filter((p) => !state.isDoNotContact(p.e164));
    if (callable.length === 0) return skip(id, 'do-not-contact');

    const zone = resolveZone(engagement, contact.timeZone, callable[0]?.e164, now);
    const limit = frequencyLimitReached(engagement, state.recentEngagements(id), zone.name, now);
    if (limit !== undefined) return skip(id, limit);

    const requested: Span[] = contact.windows?.map((w) => ({ start: Date.parse(w.start), end: Date.parse(w.end) })) ?? defaultRequested;
    const requestedKey = contact.windows === undefined ? 'default' : requested.map((r) => `${r.start}-${r.end}`).join(',');
    const phones = callable.map((p) => ({ ...p, ...windowsFor(requested, requestedKey, zone.name, p.type) }));
    const withWindows = phones.filter((p) => p.spans.length > 0);
    if (withWindows.length === 0) {
      const causes = callable.map((p) => explainNoWindow(requested, zone.name, { ...rules, quietHours: engagement.quietHours[p.type] ?? [] }, now, cache));
      return skip(id, `no-window-${furthest(causes)}`);
    }
    const single = withWindows.length === 1 || withWindows.every((p) => p.windows === withWindows[0]?.windows);
    const spans = single ? (withWindows[0]?.spans ?? []) : normalizeSpans(withWindows.flatMap((p) => p.spans));
    const first = spans[0] as Span;

    planned.push({
      index,
      contact: {
        contactId: id,
        ...(contact.firstName === undefined ? {} : { firstName: contact.firstName }),
        ...(contact.lastName === undefined ? {} : { lastName: contact.lastName }),
        ...(contact.email === undefined ? {} : { email: contact.email }),
        ...(contact.locale === undefined ? {} : { locale: contact.locale }),
        phones: withWindows.map((p) => ({ type: p.type, e164: p.e164, windows: p.windows })),
        timeZone: zone.name,
        timezoneInferred: zone.inferred,
        windows: single ? (withWindows[0]?.windows ?? []) : spans.map(toWindow),
        attributes: contact.attributes,
        callOrderKey: callOrderKey(engagement.callOrder, {
          receivedAt: now,
          sequence: index,
          firstWindowEnd: first.end,
          attributes: contact.attributes,
        }),
        priority: PRIORITY_RANK[engagement.priority],
        source,
        deliveryId: deliveryIdFor(engagement.id, source, id),
        ...(journey === undefined ? {} : { journey }),
      },
    });
  });
  return { planned, skipped, skippedCounts };
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

/** A stable id for calling this contact for this source in this engagement: the dial idempotency key. */
export function deliveryIdFor(engagementId: string, source: string, contactId: string): string {
  const hex = createHash('sha256').update(`${engagementId}\n${source}\n${contactId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

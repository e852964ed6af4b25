import type { CallWindow, PlannedContact, PlannedPhone } from '../contacts/plannedContact.js';
import type { EngagementConfig, QueueConfig } from '../engagement/engagementSchema.js';
import { computeCallingWindows, ScheduleCache } from '../planning/callingWindows.js';
import { normalizeSpans, type Span } from '../planning/timeIntervals.js';

/** A callback is offered this long a window around the time the customer asked for. */
export const CALLBACK_WINDOW_MS = 60 * 60_000;
/** When the time asked for is outside every phone's calling hours, the next lawful hour within this is offered. */
export const CALLBACK_SEARCH_MS = 24 * 3_600_000;

/**
 * The windows a requested callback may be placed in, per phone: the hour from the time the customer
 * asked for, inside the same rules as any call (the contact's legal hours, the queue's operating hours,
 * each phone type's quiet hours, in the contact's zone). A customer asking for 23:00 is not called at
 * 23:00: when no phone may be called in that hour, the first lawful hour of the next day is offered.
 * Returns the contact with its windows replaced, or undefined when no phone can be called at all.
 */
export function callbackContact(engagement: EngagementConfig, queue: QueueConfig | undefined, contact: PlannedContact, at: number): PlannedContact | undefined {
  const cache = new ScheduleCache(at - 3_600_000, at + CALLBACK_SEARCH_MS + 2 * 3_600_000);
  const rules = {
    legalHours: engagement.legalHours,
    queueHours: engagement.operatingHours.allowOutsideQueueHours || queue === undefined ? undefined : queue.operatingHours,
  };
  const spansFor = (requested: Span) =>
    contact.phones.map((phone) =>
      computeCallingWindows([requested], contact.timeZone, { ...rules, quietHours: engagement.quietHours[phone.type] ?? [] }, at, cache),
    );
  let perPhone = spansFor({ start: at, end: at + CALLBACK_WINDOW_MS });
  if (perPhone.every((spans) => spans.length === 0)) {
    const later = spansFor({ start: at, end: at + CALLBACK_SEARCH_MS });
    const first = Math.min(...later.flatMap((spans) => spans.map((s) => s.start)));
    if (!Number.isFinite(first)) return undefined;
    perPhone = spansFor({ start: first, end: first + CALLBACK_WINDOW_MS });
  }
  const phones: PlannedPhone[] = contact.phones.flatMap((phone, i) => {
    const spans = perPhone[i] ?? [];
    return spans.length === 0 ? [] : [{ ...phone, windows: spans.map(toWindow) }];
  });
  if (phones.length === 0) return undefined;
  return { ...contact, phones, windows: normalizeSpans(perPhone.flat()).map(toWindow) };
}

function toWindow(span: Span): CallWindow {
  return { start: new Date(span.start).toISOString(), end: new Date(span.end).toISOString() };
}

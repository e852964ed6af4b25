import { DateTime } from 'luxon';
import type { AttributeValue } from '../contacts/plannedContact.js';

export type RenderedPurpose = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly missing: readonly string[] };

const PLACEHOLDER = /\{([A-Za-z0-9_.-]{1,100})\}/g;

/**
 * Fills an engagement purpose ("your payment of {amountDue} is due on {dueDate}") with the delivery's
 * input attributes. Only attributes the purpose names are spoken: attributes can hold internal or
 * sensitive data, and reading all of them out to whoever picked up is not the agent's call. A purpose
 * naming an attribute the delivery lacks is reported (`missing`), never spoken with a hole in it.
 * ISO date-times are said in the contact's zone ("Tuesday, March 10 at 3:00 PM").
 */
export function renderPurpose(purpose: string, attributes: Readonly<Record<string, AttributeValue>>, zone: string, locale = 'en-US'): RenderedPurpose {
  const missing = new Set<string>();
  const text = purpose.replace(PLACEHOLDER, (_, name: string) => {
    const value = attributes[name];
    if (value === undefined) {
      missing.add(name);
      return '';
    }
    return speakValue(value, zone, locale);
  });
  return missing.size > 0 ? { ok: false, missing: [...missing] } : { ok: true, text };
}

/** Names the attributes a purpose refers to (for validation and docs). */
export function purposeAttributes(purpose: string): string[] {
  return [...new Set([...purpose.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))];
}

function speakValue(value: AttributeValue, zone: string, locale: string): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return String(value);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) {
    const at = DateTime.fromISO(value, { zone, setZone: false }).setZone(zone).setLocale(locale);
    if (at.isValid) return formatSpokenDateTime(at);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const day = DateTime.fromISO(value, { zone }).setLocale(locale);
    if (day.isValid) return day.toFormat('cccc, LLLL d');
  }
  return value;
}

/** "Tuesday, March 10 at 3:00 PM": how the agent says a moment to the customer. */
export function formatSpokenDateTime(at: DateTime): string {
  return at.toFormat("cccc, LLLL d 'at' h:mm a");
}

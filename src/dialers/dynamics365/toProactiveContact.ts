import type { PhoneType } from '../../engagement/engagementSchema.js';
import type { DialRequest } from '../dialerPort.js';
import { toWindowsTimeZone } from './toWindowsTimeZone.js';

/** A CCaaS contact window: UTC instants in `yyyy-MM-ddTHH:mm:ss.fffZ`. */
export interface ProactiveWindow {
  readonly start: string;
  readonly end: string;
}

/** The Contact object of CCaaS_CreateProactiveDelivery (Microsoft Learn field names). */
export interface ProactiveContact {
  readonly uniqueIdentifier: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly email?: string;
  readonly mobilePhoneNumber?: string;
  readonly businessPhoneNumber?: string;
  readonly homePhoneNumber?: string;
  /** A Windows time zone id ("Pacific Standard Time"). */
  readonly timezone: string;
  /** Copilot agent context; D365 documents the values as strings. */
  readonly inputAttributes?: Readonly<Record<string, string>>;
  readonly windows?: readonly ProactiveWindow[];
}

export type ContactConversion = { readonly ok: true; readonly contact: ProactiveContact } | { readonly ok: false; readonly reason: string };

const PHONE_FIELDS: Readonly<Record<PhoneType, 'mobilePhoneNumber' | 'businessPhoneNumber' | 'homePhoneNumber'>> = {
  mobile: 'mobilePhoneNumber',
  business: 'businessPhoneNumber',
  home: 'homePhoneNumber',
};

/**
 * Builds the D365 contact for a dial request, or says why the request cannot be sent (a rejection
 * of that one delivery, never an exception). D365 has one slot per phone type, so when the request
 * lists two numbers of a type the first (the one the engagement's phone order prefers) wins.
 */
export function toProactiveContact(request: DialRequest): ContactConversion {
  const { contact } = request;
  if (contact.phones.length === 0) {
    return { ok: false, reason: 'contact.phones is empty: Dynamics 365 needs at least one mobile, business or home number' };
  }
  const timezone = toWindowsTimeZone(contact.timeZone);
  if (timezone === undefined) {
    return {
      ok: false,
      reason: `contact.timeZone "${contact.timeZone}" has no Windows time zone mapping; Dynamics 365 accepts Windows time zone ids only`,
    };
  }
  const windows: ProactiveWindow[] = [];
  for (const [index, window] of contact.windows.entries()) {
    const start = Date.parse(window.start);
    const end = Date.parse(window.end);
    if (Number.isNaN(start) || Number.isNaN(end) || start >= end) {
      return { ok: false, reason: `contact.windows[${index}] is not a valid interval (start before end, ISO-8601)` };
    }
    windows.push({ start: new Date(start).toISOString(), end: new Date(end).toISOString() });
  }
  const phones: Partial<Record<(typeof PHONE_FIELDS)[PhoneType], string>> = {};
  for (const phone of contact.phones) {
    const field = PHONE_FIELDS[phone.type];
    phones[field] ??= phone.e164;
  }
  const attributes = Object.entries(contact.attributes);
  return {
    ok: true,
    contact: {
      uniqueIdentifier: contact.contactId,
      ...(contact.firstName === undefined ? {} : { firstName: contact.firstName }),
      ...(contact.lastName === undefined ? {} : { lastName: contact.lastName }),
      ...(contact.email === undefined ? {} : { email: contact.email }),
      ...phones,
      timezone,
      ...(attributes.length === 0 ? {} : { inputAttributes: Object.fromEntries(attributes.map(([key, value]) => [key, String(value)])) }),
      ...(windows.length === 0 ? {} : { windows }),
    },
  };
}

import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export type PhoneCheck = { readonly ok: true; readonly e164: string } | { readonly ok: false; readonly reason: string };

/**
 * Reads a phone number as given by Customer Insights (E.164, or national format in the engagement's
 * default country) and returns it in E.164, or why it cannot be dialled. The `max` metadata is used so
 * that numbers with valid shapes but unassigned ranges are refused before a call is wasted on them.
 */
export function normalizePhone(raw: string, defaultCountry: string): PhoneCheck {
  const parsed = parsePhoneNumberFromString(raw, { defaultCountry: defaultCountry as CountryCode });
  if (parsed === undefined) return { ok: false, reason: 'not a phone number' };
  if (!parsed.isValid()) return { ok: false, reason: 'not a valid number for its country' };
  return { ok: true, e164: parsed.number };
}

/** `+14155550123` -> `+1415*****23`: enough to tell numbers apart in logs, not enough to call them. */
export function maskPhone(e164: string): string {
  if (e164.length <= 6) return '*'.repeat(e164.length);
  return `${e164.slice(0, 5)}${'*'.repeat(e164.length - 7)}${e164.slice(-2)}`;
}

import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { checkE164, NOT_A_NUMBER, NOT_VALID } from './e164Validator.js';

export type PhoneCheck = { readonly ok: true; readonly e164: string } | { readonly ok: false; readonly reason: string };

/**
 * Reads a phone number as given by Customer Insights (E.164, or national format in the engagement's
 * default country) and returns it in E.164, or why it cannot be dialled. The `max` metadata is used so
 * that numbers with valid shapes but unassigned ranges are refused before a call is wasted on them.
 * This is the library call itself (about 8-15 µs a number: it builds a RegExp per pattern test);
 * {@link normalizePhone} answers `+`-and-digits text with the exact precompiled port in
 * e164Validator.ts and memoises the library call for everything else.
 */
export function normalizePhoneUncached(raw: string, defaultCountry: string): PhoneCheck {
  const parsed = parsePhoneNumberFromString(raw, { defaultCountry: defaultCountry as CountryCode });
  if (parsed === undefined) return NOT_A_NUMBER;
  if (!parsed.isValid()) return NOT_VALID;
  return { ok: true, e164: parsed.number };
}

/** Distinct inputs remembered per process: about 10 MiB at most, a bounded share of the memory goal. */
export const PHONE_MEMO_ENTRIES = 65_536;
const memo = new Map<string, Map<string, PhoneCheck>>();
let memoSize = 0;

/**
 * {@link normalizePhoneUncached}, the same answers faster: E.164 text (`+` and digits, what Customer
 * Insights sends) is checked by {@link checkE164} (the library's steps with its patterns compiled once,
 * about 0.4 µs a number, checked exact against the library in test/planning/e164Validator.test.ts);
 * other text (national format, punctuation) goes to the library, memoised per distinct (default
 * country, text) in a bounded process-wide map: segments repeat numbers, and the answer depends only on
 * the input and the library's metadata. When full, the map is emptied (cheaper than LRU bookkeeping
 * per hit; a working set larger than the bound pays the library call either way).
 */
export function normalizePhone(raw: string, defaultCountry: string): PhoneCheck {
  const fast = checkE164(raw);
  if (fast !== undefined) return fast;
  let byText = memo.get(defaultCountry);
  if (byText === undefined) {
    byText = new Map();
    memo.set(defaultCountry, byText);
  }
  let checked = byText.get(raw);
  if (checked === undefined) {
    checked = normalizePhoneUncached(raw, defaultCountry);
    if (memoSize >= PHONE_MEMO_ENTRIES) {
      memo.clear();
      memoSize = 0;
      byText = new Map();
      memo.set(defaultCountry, byText);
    }
    byText.set(raw, checked);
    memoSize++;
  }
  return checked;
}

/** `+14155550123` -> `+1415*****23`: enough to tell numbers apart in logs, not enough to call them. */
export function maskPhone(e164: string): string {
  if (e164.length <= 6) return '*'.repeat(e164.length);
  return `${e164.slice(0, 5)}${'*'.repeat(e164.length - 7)}${e164.slice(-2)}`;
}

import metadataJson from 'libphonenumber-js/metadata.max';
import type { PhoneCheck } from './normalizePhone.js';

/**
 * A fast, exact check of numbers written as `+` and digits (E.164 as Customer Insights sends them):
 * the steps `parsePhoneNumberFromString(text).isValid()` and `.number` take for such text with the
 * `max` metadata, ported from libphonenumber-js (parse.js, extractCountryCallingCode.js,
 * extractNationalNumber.js, getCountryByCallingCode.js, getCountryByNationalNumber.js,
 * getNumberType.js, checkNumberLength.js, isValid.js) with every metadata pattern compiled once rather
 * than per check (the library builds a RegExp per pattern test, most of its 8-15 µs a number).
 *
 * Only text of the shape {@link FAST_SHAPE} is answered here; anything else (national format,
 * punctuation, extensions, `tel:` URIs) returns undefined and goes to the library. Exactness is checked
 * against the library itself over generated numbers of every calling code and length
 * (test/planning/e164Validator.test.ts), so a metadata update that changes the rules shows up there.
 */

/** `+`, a first digit that is not 0, then 5-16 digits: every E.164 number and its near misses. */
const FAST_SHAPE = /^\+[1-9][0-9]{5,16}$/;
/** libphonenumber-js constants.js. */
const MIN_LENGTH_FOR_NSN = 2;
const MAX_LENGTH_FOR_NSN = 17;
const MAX_LENGTH_COUNTRY_CODE = 3;

/** A country's (or non-geographic calling code's) row in the v4 metadata, as NumberingPlan reads it. */
type PlanRow = readonly unknown[];
interface TypeRule {
  readonly pattern: RegExp;
  readonly lengths: readonly number[] | undefined;
}
interface Plan {
  /** `^(?:nationalNumberPattern)$`. */
  readonly national: RegExp;
  readonly possibleLengths: readonly number[] | undefined;
  /** `^(?:nationalPrefixForParsing)`, or undefined when the plan has none. */
  readonly prefixForParsing: RegExp | undefined;
  readonly transformRule: string | undefined;
  /** The raw leading-digits pattern (used with String.prototype.search, as the library does). */
  readonly leadingDigits: RegExp | undefined;
  /** The typed patterns in getNumberType's order (FIXED_LINE, then the non-fixed types), or undefined without types. */
  readonly types: readonly TypeRule[] | undefined;
}
interface CallingCode {
  readonly code: string;
  /** The plan the library selects by calling code: the first country's, or the non-geographic one. */
  readonly main: Plan;
  /** The countries sharing the code, in metadata order, when there are any (undefined for non-geographic codes). */
  readonly countries: readonly { readonly country: string; readonly plan: Plan }[] | undefined;
}

interface MetadataV4 {
  readonly version: number;
  readonly country_calling_codes: Record<string, readonly string[]>;
  readonly countries: Record<string, PlanRow>;
  readonly nonGeographic?: Record<string, PlanRow>;
}

// Metadata type indices (metadata.js getType) in getNumberType's checking order: FIXED_LINE, then
// MOBILE, PREMIUM_RATE, TOLL_FREE, SHARED_COST, VOIP, PERSONAL_NUMBER, PAGER, UAN, VOICEMAIL.
const TYPE_ORDER = [0, 1, 3, 2, 9, 8, 4, 7, 6, 5];

function whole(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

function compilePlan(row: PlanRow): Plan {
  // NumberingPlan (metadata.js), v4 layout.
  const possibleLengths = row[3] as readonly number[] | undefined;
  const prefix = (row[7] as string | undefined) || (row[5] as string | undefined); // nationalPrefixForParsing() || nationalPrefix()
  const rawTypes = row[11] as readonly (readonly [string, (readonly number[])?] | 0 | undefined)[] | undefined;
  let types: TypeRule[] | undefined;
  if (rawTypes !== undefined && rawTypes !== null && rawTypes.length > 0) {
    types = [];
    for (const index of TYPE_ORDER) {
      const type = rawTypes[index];
      // isNumberTypeEqualTo: a missing type, or one with an empty pattern, never matches.
      if (!type || !type[0]) continue;
      types.push({ pattern: whole(type[0]), lengths: type[1] || possibleLengths });
    }
  }
  return {
    national: whole(row[2] as string),
    possibleLengths: possibleLengths || undefined,
    prefixForParsing: prefix ? new RegExp(`^(?:${prefix})`) : undefined,
    transformRule: (row[8] as string | undefined) || undefined,
    leadingDigits: row[10] ? new RegExp(row[10] as string) : undefined,
    types,
  };
}

function typeMatches(plan: Plan, nationalNumber: string): boolean {
  if (plan.types === undefined) return false;
  for (const type of plan.types) {
    if (type.lengths && type.lengths.indexOf(nationalNumber.length) < 0) continue;
    if (type.pattern.test(nationalNumber)) return true;
  }
  return false;
}

/** getNumberType(...) !== undefined. */
function hasNumberType(plan: Plan, nationalNumber: string): boolean {
  return plan.national.test(nationalNumber) && typeMatches(plan, nationalNumber);
}

/** isValidNumber for the selected plan. */
function isValidIn(plan: Plan, nationalNumber: string): boolean {
  return plan.types !== undefined ? hasNumberType(plan, nationalNumber) : plan.national.test(nationalNumber);
}

/** getCountryByCallingCode: the country of a code shared by several, by leading digits or number type. */
function countryFor(code: CallingCode, nationalNumber: string): { readonly country: string; readonly plan: Plan } | undefined {
  const countries = code.countries;
  if (countries === undefined) return undefined;
  if (countries.length === 1) return countries[0];
  for (const candidate of countries) {
    if (candidate.plan.leadingDigits !== undefined) {
      if (nationalNumber && nationalNumber.search(candidate.plan.leadingDigits) === 0) return candidate;
    } else if (hasNumberType(candidate.plan, nationalNumber)) {
      return candidate;
    }
  }
  return undefined;
}

/** checkNumberLength(...) is neither TOO_SHORT nor INVALID_LENGTH. */
function possibleIncompleteLength(plan: Plan, nationalNumber: string): boolean {
  const lengths = plan.possibleLengths;
  if (!lengths) return true;
  const length = nationalNumber.length;
  const minimum = lengths[0] as number;
  if (minimum === length) return true;
  if (minimum > length) return false;
  if ((lengths[lengths.length - 1] as number) < length) return true; // TOO_LONG is not refused here
  return lengths.indexOf(length, 1) >= 0;
}

/** extractNationalNumber with no country: strips a national prefix only where the library would. */
function nationalNumberOf(code: CallingCode, number: string): string {
  const plan = code.main;
  if (plan.prefixForParsing === undefined) return number;
  const match = plan.prefixForParsing.exec(number);
  if (match === null) return number;
  const groups = match.length - 1;
  const hasGroups = groups > 0 && Boolean(match[groups]);
  const nationalNumber =
    plan.transformRule !== undefined && hasGroups ? number.replace(plan.prefixForParsing, plan.transformRule) : number.slice(match[0].length);
  if (nationalNumber === number) return number;
  // shouldHaveExtractedNationalPrefix
  if (plan.national.test(number) && !plan.national.test(nationalNumber)) return number;
  if (plan.possibleLengths) {
    const country = countryFor(code, nationalNumber);
    if (!possibleIncompleteLength(country === undefined ? plan : country.plan, nationalNumber)) return number;
  }
  return nationalNumber;
}

let callingCodes: Map<string, CallingCode> | undefined;

function compileCallingCodes(): Map<string, CallingCode> {
  const metadata = metadataJson as unknown as MetadataV4;
  if (metadata.version !== 4) throw new Error(`libphonenumber-js metadata version ${metadata.version} is not the v4 layout this validator reads`);
  const codes = new Map<string, CallingCode>();
  const plans = new Map<string, Plan>();
  const planOf = (country: string): Plan => {
    let plan = plans.get(country);
    if (plan === undefined) plans.set(country, (plan = compilePlan(metadata.countries[country] as PlanRow)));
    return plan;
  };
  for (const [code, countries] of Object.entries(metadata.country_calling_codes)) {
    // getCountryCodesForCallingCode: a lone three-letter entry ('001') means non-geographic.
    if (countries.length === 1 && (countries[0] as string).length === 3) continue;
    const list = countries.map((country) => ({ country, plan: planOf(country) }));
    codes.set(code, { code, main: (list[0] as { plan: Plan }).plan, countries: list });
  }
  for (const [code, row] of Object.entries(metadata.nonGeographic ?? {})) {
    if (!codes.has(code)) codes.set(code, { code, main: compilePlan(row), countries: undefined });
  }
  return codes;
}

export const NOT_A_NUMBER: PhoneCheck = { ok: false, reason: 'not a phone number' };
export const NOT_VALID: PhoneCheck = { ok: false, reason: 'not a valid number for its country' };

/**
 * For text of the shape `+` and digits, what `parsePhoneNumberFromString(text)` with the max metadata
 * gives: the number in E.164 when it parses and `isValid()`, {@link NOT_A_NUMBER} when it does not
 * parse, {@link NOT_VALID} when it parses but is not valid. Undefined for any other text (ask the library).
 */
export function checkE164(text: string): PhoneCheck | undefined {
  if (!FAST_SHAPE.test(text)) return undefined;
  callingCodes ??= compileCallingCodes();
  // extractCountryCallingCode: the shortest prefix of one to three digits that is a calling code.
  let code: CallingCode | undefined;
  let rest = '';
  for (let i = 2; i - 1 <= MAX_LENGTH_COUNTRY_CODE && i <= text.length; i++) {
    code = callingCodes.get(text.slice(1, i));
    if (code !== undefined) {
      rest = text.slice(i);
      break;
    }
  }
  if (code === undefined || rest === '') return NOT_A_NUMBER;
  const nationalNumber = nationalNumberOf(code, rest);
  if (nationalNumber.length < MIN_LENGTH_FOR_NSN || nationalNumber.length > MAX_LENGTH_FOR_NSN) return NOT_A_NUMBER;
  const country = countryFor(code, nationalNumber);
  if (!isValidIn(country === undefined ? code.main : country.plan, nationalNumber)) return NOT_VALID;
  // PhoneNumber.number is `+`, the calling code and the national number: the text itself unless a prefix was stripped.
  return { ok: true, e164: nationalNumber === rest ? text : `+${code.code}${nationalNumber}` };
}

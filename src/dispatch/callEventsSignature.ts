import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries a call-events request's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const CALL_EVENTS_SIGNATURE_HEADER = 'x-call-events-signature';

/** How far a signature's timestamp may be from the app's clock, either way; older requests are replays. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The signature of `body` sent at `timestampSeconds`: HMAC-SHA256 over `<t>.<raw body bytes>`, hex. */
export function signCallEvents(secret: string, timestampSeconds: number, body: Uint8Array | string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/**
 * Checks a call-events request's signature header against the raw body. The timestamp is signed with
 * the body, so a captured request cannot be replayed outside the tolerance, and inside it a replay only
 * repeats events that are recorded once anyway. Compared in constant time; the reason never echoes the
 * header or the expected value.
 */
export function verifyCallEventsSignature(secret: string, header: string | null, body: Uint8Array, now: number): SignatureCheck {
  if (header === null || header === '') return { ok: false, reason: `the ${CALL_EVENTS_SIGNATURE_HEADER} header is missing` };
  const fields = new Map<string, string>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const t = fields.get('t');
  const given = fields.get('v1');
  if (t === undefined || !/^\d{1,12}$/.test(t) || given === undefined || !/^[0-9a-f]{64}$/.test(given)) {
    return { ok: false, reason: `the ${CALL_EVENTS_SIGNATURE_HEADER} header is malformed: expected t=<unix seconds>,v1=<64 hex digits>` };
  }
  if (Math.abs(Number(t) * 1000 - now) > SIGNATURE_TOLERANCE_MS) {
    return { ok: false, reason: 'the signature timestamp is outside the 5 minute window (replayed, or the clocks differ)' };
  }
  const expected = Buffer.from(signCallEvents(secret, Number(t), body).slice(`t=${t},v1=`.length), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) return { ok: false, reason: 'the signature does not match the body' };
  return { ok: true };
}

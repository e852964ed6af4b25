import type { CallEvent } from '../contacts/callEvent.js';

/** Ofcom: a number whose call was abandoned is not called again within 72 hours without a guaranteed representative. */
export const OFCOM_ABANDONED_HOLD_MS = 72 * 3_600_000;

/** A UK number in E.164. */
export function isUkNumber(e164: string): boolean {
  return e164.startsWith('+44');
}

/**
 * When an attempt to UK numbers may be dialed after the delivery's earlier attempts: the 72-hour mark of
 * the latest abandoned one still inside its hold, or `undefined` when nothing holds it. A representative
 * guaranteed on the call (preview, or a reserved representative) lifts the hold. `previous` are the
 * delivery's earlier attempts' outcomes, any order.
 */
export function ofcomHoldUntil(
  phones: readonly { readonly e164: string }[],
  previous: readonly Pick<CallEvent, 'result' | 'at'>[],
  representativeGuaranteed: boolean,
  now: number,
): number | undefined {
  if (representativeGuaranteed || !phones.some((p) => isUkNumber(p.e164))) return undefined;
  let until: number | undefined;
  for (const event of previous) {
    if (event.result !== 'Abandoned') continue;
    const lifts = Date.parse(event.at) + OFCOM_ABANDONED_HOLD_MS;
    if (lifts > now && (until === undefined || lifts > until)) until = lifts;
  }
  return until;
}

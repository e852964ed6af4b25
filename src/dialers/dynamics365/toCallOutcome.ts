import type { CallEvent } from '../../contacts/callEvent.js';
import { CALL_RESULTS, type CallResult, resultFromSipCode } from '../../contacts/callResult.js';

/** `msdyn_status` values of msdyn_proactive_delivery; the first two mean "not ended yet". */
export const DELIVERY_STATUSES = ['Pending', 'InProcess', 'Complete', 'Expired', 'Cancelled', 'Error'] as const;

/** What Dynamics 365 says about one delivery, from a msdyn_proactive_deliveries row or a delivery task. */
export interface ObservedDelivery {
  readonly status: string | undefined;
  readonly result: string | undefined;
  /** ISO-8601, when the result was set. */
  readonly resultDate: string | undefined;
  readonly sipDiagnostics: string | undefined;
  readonly dispositionCodes: string | undefined;
}

export type CallOutcome =
  | { readonly ended: false }
  | {
      readonly ended: true;
      readonly result: CallResult;
      readonly at: string;
      readonly sipCode?: number;
      readonly disposition?: NonNullable<CallEvent['disposition']>;
      /** The row ended but said too little (no usable Result and no SIP code): the delivery task may say more. */
      readonly vague: boolean;
    };

const RESULT_BY_LOWER: ReadonlyMap<string, CallResult> = new Map(CALL_RESULTS.map((r) => [r.toLowerCase(), r]));

/** What an ended status means when no Result came with it. */
const RESULT_OF_STATUS: Readonly<Record<string, CallResult>> = { expired: 'Expired', cancelled: 'Cancelled', canceled: 'Cancelled', error: 'Error' };

/** Results that say nothing about the call itself, so a SIP code (when there is one) says more. */
const UNINFORMATIVE: ReadonlySet<CallResult> = new Set(['Unknown', 'Undetermined', 'Error']);

/**
 * Disposition codes (free text in `msdyn_disposition_codes`, set by representatives or the agent) that
 * the outcome recorder acts on. Matched on letters only, so "Do not contact", "DoNotContact" and
 * "do_not_contact" are the same code.
 */
const DISPOSITIONS: ReadonlyMap<string, NonNullable<CallEvent['disposition']>> = new Map([
  ['donotcontact', 'do-not-contact'],
  ['donotcall', 'do-not-contact'],
  ['notrightparty', 'not-right-party'],
  ['wrongparty', 'not-right-party'],
  ['callback', 'callback'],
  ['voicemail', 'voicemail'],
  ['interested', 'interested'],
  ['notinterested', 'not-interested'],
]);

/**
 * Maps what Dynamics 365 reports for a delivery to the project's outcome: not ended (Pending,
 * InProcess, or a status this code does not know), or ended with a Result.
 *
 * - The Result column wins when it names a Result value (any letter case); a bare number in it is
 *   read as a SIP code.
 * - A SIP code (the first 3-digit 1xx-6xx number in `msdyn_sip_diagnostics`) is kept on the event and
 *   replaces an uninformative Result (Unknown, Undetermined, Error) through Microsoft's SIP mapping.
 * - NoAnswer with SIP 486 is reported as Busy: D365 folds busy into NoAnswer, but engagements may
 *   reattempt Busy and NoAnswer differently.
 * - Without a Result: Expired, Cancelled and Error stand for themselves, Complete is Unknown.
 */
export function toCallOutcome(observed: ObservedDelivery, now: number): CallOutcome {
  const status = observed.status?.trim().toLowerCase();
  if (status === undefined || status === '' || status === 'pending' || status === 'inprocess' || status === 'in process') return { ended: false };
  if (!['complete', 'completed', 'expired', 'cancelled', 'canceled', 'error'].includes(status)) return { ended: false };
  const sipCode = readSipCode(observed.sipDiagnostics);
  const rawResult = observed.result?.trim() ?? '';
  let result: CallResult | undefined;
  let resultSip: number | undefined;
  if (/^\d{3}$/.test(rawResult)) resultSip = Number(rawResult);
  else result = RESULT_BY_LOWER.get(rawResult.toLowerCase());
  const sip = resultSip ?? sipCode;
  if ((result === undefined || UNINFORMATIVE.has(result)) && sip !== undefined) result = resultFromSipCode(sip);
  if (result === 'NoAnswer' && sip === 486) result = 'Busy';
  const vague = result === undefined || result === 'Unknown';
  result ??= RESULT_OF_STATUS[status] ?? 'Unknown';
  const at = readDate(observed.resultDate) ?? new Date(now).toISOString();
  const disposition = readDisposition(observed.dispositionCodes);
  return {
    ended: true,
    result,
    at,
    ...(sip === undefined ? {} : { sipCode: sip }),
    ...(disposition === undefined ? {} : { disposition }),
    vague,
  };
}

function readSipCode(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /(?<!\d)([1-6]\d\d)(?!\d)/.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function readDate(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function readDisposition(codes: string | undefined): NonNullable<CallEvent['disposition']> | undefined {
  if (codes === undefined || codes.trim() === '') return undefined;
  for (const code of codes.split(/[,;|]/)) {
    const found = DISPOSITIONS.get(code.toLowerCase().replace(/[^a-z]/g, ''));
    if (found !== undefined) return found;
  }
  return undefined;
}

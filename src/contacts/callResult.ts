/**
 * Voice outcome Result values, as Dynamics 365 Contact Center documents them for proactive engagement,
 * plus `Busy` (our simulator and SIP 486 from carriers that report it separately; D365 folds it into
 * NoAnswer).
 */
export const CALL_RESULTS = [
  'LiveAnswer',
  'AnsweringMachine',
  'AnsweringMachineHangup',
  'Undetermined',
  'NotAHandset',
  'BotFailed',
  'CallEnded',
  'NoAnswer',
  'Busy',
  'InvalidAddress',
  'CallFailed',
  'NonRetriableError',
  'Abandoned',
  'Terminated',
  'CSRCancelled',
  'Unknown',
  'Cancelled',
  'Expired',
  'Error',
] as const;
export type CallResult = (typeof CALL_RESULTS)[number];

/** SIP final response codes to Result values (Microsoft's published mapping). */
export function resultFromSipCode(code: number): CallResult {
  if (code === 486) return 'Busy';
  if ([600, 603, 607].includes(code)) return 'NoAnswer';
  if ([404, 410, 484, 485, 604].includes(code)) return 'InvalidAddress';
  if ([408, 480, 487, 500, 502, 503, 504].includes(code)) return 'CallFailed';
  if ([401, 405, 407, 415, 488, 501, 505].includes(code)) return 'NonRetriableError';
  return 'Unknown';
}

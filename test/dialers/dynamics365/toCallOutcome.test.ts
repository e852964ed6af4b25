import { describe, expect, it } from 'vitest';
import { CALL_RESULTS } from '../../../src/contacts/callResult.js';
import { type ObservedDelivery, toCallOutcome } from '../../../src/dialers/dynamics365/toCallOutcome.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');
const row = (o: Partial<ObservedDelivery>): ObservedDelivery => ({
  status: 'Complete',
  result: undefined,
  resultDate: undefined,
  sipDiagnostics: undefined,
  dispositionCodes: undefined,
  ...o,
});

describe('toCallOutcome', () => {
  it.each(['Pending', 'InProcess', 'pending', undefined, 'SomethingNew'])('status %s has not ended', (status) => {
    expect(toCallOutcome(row({ status, result: 'NoAnswer' }), NOW)).toEqual({ ended: false });
  });

  it.each(CALL_RESULTS.filter((r) => r !== 'Busy'))('Result %s on a completed row is that Result', (result) => {
    const outcome = toCallOutcome(row({ result, resultDate: '2026-11-25T14:58:00Z' }), NOW);
    expect(outcome).toMatchObject({ ended: true, result, at: '2026-11-25T14:58:00.000Z' });
  });

  it('Result values are matched in any letter case', () => {
    expect(toCallOutcome(row({ result: 'answeringmachinehangup' }), NOW)).toMatchObject({ result: 'AnsweringMachineHangup' });
  });

  it.each([
    [486, 'Busy'],
    [600, 'NoAnswer'],
    [603, 'NoAnswer'],
    [607, 'NoAnswer'],
    [404, 'InvalidAddress'],
    [410, 'InvalidAddress'],
    [484, 'InvalidAddress'],
    [485, 'InvalidAddress'],
    [604, 'InvalidAddress'],
    [408, 'CallFailed'],
    [480, 'CallFailed'],
    [487, 'CallFailed'],
    [500, 'CallFailed'],
    [502, 'CallFailed'],
    [503, 'CallFailed'],
    [504, 'CallFailed'],
    [401, 'NonRetriableError'],
    [405, 'NonRetriableError'],
    [407, 'NonRetriableError'],
    [415, 'NonRetriableError'],
    [488, 'NonRetriableError'],
    [501, 'NonRetriableError'],
    [505, 'NonRetriableError'],
  ])('SIP %i in the diagnostics of a row without a Result is %s, and the code is kept', (sip, result) => {
    expect(toCallOutcome(row({ status: 'Error', sipDiagnostics: `SIP/2.0 ${sip} reason; callId=abc` }), NOW)).toMatchObject({
      ended: true,
      result,
      sipCode: sip,
      vague: false,
    });
  });

  it('a SIP code replaces an uninformative Result but not an informative one', () => {
    expect(toCallOutcome(row({ result: 'Unknown', sipDiagnostics: '404' }), NOW)).toMatchObject({ result: 'InvalidAddress', sipCode: 404 });
    expect(toCallOutcome(row({ result: 'LiveAnswer', sipDiagnostics: '404' }), NOW)).toMatchObject({ result: 'LiveAnswer', sipCode: 404 });
  });

  it('NoAnswer with SIP 486 is Busy (D365 folds busy into NoAnswer; reattempts may tell them apart)', () => {
    expect(toCallOutcome(row({ result: 'NoAnswer', sipDiagnostics: 'code=486' }), NOW)).toMatchObject({ result: 'Busy', sipCode: 486 });
  });

  it('a bare number in the Result column is read as a SIP code', () => {
    expect(toCallOutcome(row({ result: '503' }), NOW)).toMatchObject({ result: 'CallFailed', sipCode: 503 });
  });

  it.each([
    ['Expired', 'Expired'],
    ['Cancelled', 'Cancelled'],
    ['Error', 'Error'],
  ])('status %s without a Result is %s', (status, result) => {
    expect(toCallOutcome(row({ status }), NOW)).toMatchObject({ ended: true, result, at: new Date(NOW).toISOString() });
  });

  it('Complete without a Result or SIP code is Unknown and vague (the delivery task may say more)', () => {
    expect(toCallOutcome(row({}), NOW)).toMatchObject({ ended: true, result: 'Unknown', vague: true });
  });

  it('disposition codes the recorder acts on are read in any spelling', () => {
    expect(toCallOutcome(row({ result: 'LiveAnswer', dispositionCodes: 'Interested;Do Not Contact' }), NOW)).toMatchObject({ disposition: 'interested' });
    expect(toCallOutcome(row({ result: 'LiveAnswer', dispositionCodes: 'DoNotContact' }), NOW)).toMatchObject({ disposition: 'do-not-contact' });
    expect(toCallOutcome(row({ result: 'LiveAnswer', dispositionCodes: 'other' }), NOW)).not.toHaveProperty('disposition');
  });
});

import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../../src/contacts/callEvent.js';
import { resultFromSipCode, type CallResult } from '../../../src/contacts/callResult.js';
import type { DialRequest } from '../../../src/dialers/dialerPort.js';
import type { CallProfileInput } from '../../../src/dialers/simulator/callProfile.js';
import { RealTimeClock } from '../../../src/dialers/simulator/realTimeClock.js';
import { TelephonySimulator } from '../../../src/dialers/simulator/telephonySimulator.js';
import { VirtualClock } from '../../../src/dialers/simulator/virtualClock.js';
import type { EngagementConfig } from '../../../src/engagement/engagementSchema.js';
import { makeEngagement, makeQueue } from '../../support/engagements.js';

const START = Date.parse('2026-03-10T13:00:00.000Z');
const repId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const queueWith = (count: number) => makeQueue({ representatives: Array.from({ length: count }, (_, i) => ({ userId: repId(i + 1) })) });
const repLed = makeEngagement({ id: 'rep-led', dialMode: { mode: 'progressive', maxCallsPerRepresentative: 1 } });
const aiLed = makeEngagement({
  id: 'ai-led',
  type: 'ai-led',
  dialMode: { mode: 'copilot', maxConcurrentCalls: 100 },
  agentLeg: { purpose: 'a reminder', voicemail: { action: 'end' } },
});
const preview = makeEngagement({ id: 'preview', dialMode: { mode: 'preview', countdownSeconds: 10 } });

function setup(options: { seed?: number; representatives?: number; profile?: CallProfileInput; engagements?: EngagementConfig[] } = {}) {
  const clock = new VirtualClock(START);
  const sim = new TelephonySimulator({
    seed: options.seed ?? 7,
    clock,
    engagements: options.engagements ?? [repLed, aiLed, preview],
    queues: [queueWith(options.representatives ?? 0)],
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  });
  const seen: CallEvent[] = [];
  sim.onCallEvent((e) => seen.push(e));
  return { clock, sim, seen };
}

function request(i: number, engagementId = 'rep-led', extra: Partial<DialRequest> = {}): DialRequest {
  return {
    deliveryId: `delivery-${i}`,
    attempt: 1,
    engagementId,
    priority: 1,
    contact: { contactId: `c${i}`, phones: [{ type: 'mobile', e164: '+15551230000' }], timeZone: 'UTC', attributes: {}, windows: [] },
    ...extra,
  };
}

const count = (list: CallEvent[], result: CallResult) => list.filter((e) => e.result === result).length;

describe('TelephonySimulator', () => {
  it('same seed and same calls: the same events, to the millisecond', async () => {
    const run = async (seed: number) => {
      const { clock, sim, seen } = setup({ seed, representatives: 5 });
      await sim.dial(Array.from({ length: 200 }, (_, i) => request(i)));
      clock.advanceBy(3_600_000);
      return seen;
    };
    const a = await run(11);
    expect(a).toHaveLength(200);
    expect(await run(11)).toEqual(a);
    expect(await run(12)).not.toEqual(a);
  });

  it('result shares over 20,000 calls match the profile within 1.5 points', async () => {
    const { clock, sim, seen } = setup({ representatives: 0, profile: { abandonAfterSeconds: 2 } });
    await sim.dial(Array.from({ length: 20_000 }, (_, i) => request(i)));
    clock.advanceBy(600_000);
    const share = (r: CallResult) => count(seen, r) / seen.length;
    expect(seen).toHaveLength(20_000);
    // Nobody is staffed: every live answer is abandoned after 2 s.
    expect(share('Abandoned')).toBeCloseTo(0.2, 1);
    expect(Math.abs(share('Abandoned') - 0.2)).toBeLessThan(0.015);
    expect(Math.abs(share('AnsweringMachine') - 0.12)).toBeLessThan(0.015);
    expect(Math.abs(share('Busy') - 0.05)).toBeLessThan(0.015);
    expect(Math.abs(share('InvalidAddress') - 0.02)).toBeLessThan(0.015);
    expect(Math.abs(share('CallFailed') - 0.01)).toBeLessThan(0.015);
    expect(Math.abs(share('NoAnswer') - 0.6)).toBeLessThan(0.015);
    // Released at 2 s, or earlier when the customer's own patience ran out first.
    expect(seen.filter((e) => e.result === 'Abandoned').every((e) => (e.waitSeconds ?? Infinity) <= 2)).toBe(true);
  });

  it('handle times are log-normal around the 180 s mean', async () => {
    const { clock, sim, seen } = setup({ representatives: 2000, profile: { liveAnswer: 1, answeringMachine: 0, busy: 0, invalidAddress: 0, callFailed: 0 } });
    await sim.dial(Array.from({ length: 2000 }, (_, i) => request(i)));
    clock.advanceBy(86_400_000);
    const handled = seen.filter((e) => e.result === 'LiveAnswer').map((e) => e.handleSeconds ?? 0);
    expect(handled).toHaveLength(2000);
    const mean = handled.reduce((a, b) => a + b, 0) / handled.length;
    expect(mean).toBeGreaterThan(170);
    expect(mean).toBeLessThan(190);
  });

  it('SIP codes on the events map back to their results', async () => {
    const { clock, sim, seen } = setup();
    await sim.dial(Array.from({ length: 500 }, (_, i) => request(i)));
    clock.advanceBy(600_000);
    const coded = seen.filter((e) => e.sipCode !== undefined);
    expect(coded.length).toBeGreaterThan(0);
    for (const e of coded) expect(resultFromSipCode(e.sipCode ?? 0)).toBe(e.result);
  });

  it('idempotent per (deliveryId, attempt): dialing twice places one call; a new attempt is a new call', async () => {
    const { clock, sim, seen } = setup({ representatives: 1 });
    const [first] = await sim.dial([request(1)]);
    const [again] = await sim.dial([request(1)]);
    expect(again).toEqual(first);
    await sim.dial([request(1, 'rep-led', { attempt: 2 })]);
    clock.advanceBy(3_600_000);
    expect(seen.map((e) => e.attempt).sort()).toEqual([1, 2]);
  });

  it('cancel: calls not yet placed end Cancelled, placed calls go on', async () => {
    const { clock, sim, seen } = setup({ representatives: 1 });
    await sim.dial([request(1)]);
    clock.advanceBy(1_000); // placed after the 0.5 s placement delay
    await sim.dial([request(2), request(3)]);
    await sim.cancel(['delivery-1', 'delivery-2', 'unknown']);
    expect(seen).toEqual([expect.objectContaining({ deliveryId: 'delivery-2', result: 'Cancelled' })]);
    clock.advanceBy(3_600_000);
    expect(seen.map((e) => e.deliveryId).sort()).toEqual(['delivery-1', 'delivery-2', 'delivery-3']);
    expect(seen.find((e) => e.deliveryId === 'delivery-1')?.result).not.toBe('Cancelled');
  });

  const allLive: CallProfileInput = { liveAnswer: 1, answeringMachine: 0, busy: 0, invalidAddress: 0, callFailed: 0, liveRingSeconds: { mean: 5, sigma: 0 } };

  it('a customer nobody joins within 2 s is abandoned (FTC TSR), the one with a free representative is connected', async () => {
    const { clock, sim, seen } = setup({ representatives: 1, profile: allLive });
    await sim.dial([request(1), request(2)]);
    clock.advanceBy(3_600_000);
    expect(count(seen, 'LiveAnswer')).toBe(1);
    const abandoned = seen.find((e) => e.result === 'Abandoned');
    expect(abandoned?.waitSeconds).toBe(2);
    expect(seen.find((e) => e.result === 'LiveAnswer')).toMatchObject({ representativeId: repId(1), waitSeconds: 0.3 });
  });

  it('a representative freed within the 2 s takes the waiting customer', async () => {
    const { clock, sim, seen } = setup({ representatives: 1, profile: { ...allLive, handleSeconds: { mean: 1, sigma: 0 }, connectSeconds: 0 } });
    await sim.dial([request(1)]);
    clock.advanceBy(500); // second call answers 0.5 s later, while the first is still being handled
    await sim.dial([request(2)]);
    clock.advanceBy(60_000);
    expect(count(seen, 'LiveAnswer')).toBe(2);
    expect(seen.find((e) => e.deliveryId === 'delivery-2')?.waitSeconds).toBeCloseTo(0.5, 3);
  });

  it('presence: a representative on a call is Busy, an idle one Available, a stranger PresenceUnknown', async () => {
    const { clock, sim } = setup({ representatives: 2, profile: allLive });
    await sim.dial([request(1)]);
    clock.advanceBy(10_000);
    const presence = await sim.getAvailability([repId(1), repId(2), 'someone-else']);
    expect([...presence.values()]).toEqual(['Busy', 'Available', 'PresenceUnknown']);
    expect(sim.availableRepresentatives('q1')).toEqual([repId(2)]);
    expect(sim.activeCalls('rep-led')).toMatchObject({ withRepresentative: 1, representativeIds: [repId(1)] });
  });

  it('preview: the reserved representative is busy from the countdown on, and is on the line when the customer answers', async () => {
    const { clock, sim, seen } = setup({ representatives: 2, profile: allLive });
    const [accepted] = await sim.dial([request(1, 'preview', { representativeId: repId(2) })]);
    expect(accepted?.status).toBe('accepted');
    expect((await sim.getAvailability([repId(2)])).get(repId(2))).toBe('Busy');
    const [taken] = await sim.dial([request(2, 'preview', { representativeId: repId(2) })]);
    expect(taken).toMatchObject({ status: 'rejected', reason: `representative ${repId(2)} is not available` });
    clock.advanceBy(3_600_000);
    expect(seen.find((e) => e.deliveryId === 'delivery-1')).toMatchObject({ result: 'LiveAnswer', representativeId: repId(2), waitSeconds: 0 });
  });

  it('preview without a reserved representative is rejected', async () => {
    const { sim } = setup({ representatives: 1 });
    expect((await sim.dial([request(1, 'preview')]))[0]).toMatchObject({ status: 'rejected' });
  });

  it('AI-led: the agent takes every answered call, escalates about 30% to a representative, reports escalated', async () => {
    const { clock, sim, seen } = setup({ representatives: 1000, profile: { ...allLive, botFailure: 0 } });
    await sim.dial(Array.from({ length: 1000 }, (_, i) => request(i, 'ai-led')));
    clock.advanceBy(86_400_000);
    const escalated = seen.filter((e) => e.escalated === true);
    expect(escalated.length / seen.length).toBeGreaterThan(0.26);
    expect(escalated.length / seen.length).toBeLessThan(0.34);
    expect(escalated.every((e) => e.representativeId !== undefined && e.waitSeconds !== undefined)).toBe(true);
    expect(seen.filter((e) => e.escalated === false).every((e) => e.result === 'LiveAnswer' && e.representativeId === undefined)).toBe(true);
  });

  it('AI-led: escalated customers nobody takes hang up after their patience (Abandoned, escalated)', async () => {
    const { clock, sim, seen } = setup({ representatives: 0, profile: { ...allLive, escalation: 1, botFailure: 0, patienceSeconds: { mean: 30, sigma: 0 } } });
    await sim.dial([request(1, 'ai-led')]);
    clock.advanceBy(3_600_000);
    expect(seen).toEqual([expect.objectContaining({ result: 'Abandoned', escalated: true, waitSeconds: 30 })]);
  });

  it('AI-led: the agent fails on the configured share of calls (BotFailed)', async () => {
    const { clock, sim, seen } = setup({ profile: { ...allLive, botFailure: 0.1, escalation: 0 } });
    await sim.dial(Array.from({ length: 2000 }, (_, i) => request(i, 'ai-led')));
    clock.advanceBy(86_400_000);
    expect(count(seen, 'BotFailed') / 2000).toBeGreaterThan(0.085);
    expect(count(seen, 'BotFailed') / 2000).toBeLessThan(0.115);
  });

  it('rejects an engagement it does not know and a contact without a phone', async () => {
    const { sim } = setup();
    const [unknown, phoneless] = await sim.dial([request(1, 'nope'), { ...request(2), contact: { ...request(2).contact, phones: [] } }]);
    expect(unknown).toMatchObject({ status: 'rejected', reason: 'engagement nope is not known to the simulator' });
    expect(phoneless).toMatchObject({ status: 'rejected', reason: 'the contact has no phone number' });
  });

  it('an invalid profile is refused with the field named', () => {
    expect(
      () => new TelephonySimulator({ seed: 1, clock: new VirtualClock(START), engagements: [], queues: [], profile: { liveAnswer: 0.9, busy: 0.2 } }),
    ).toThrow(/simulator\.profile\.liveAnswer: .*must be at most 1/);
  });

  it('runs on a real-time clock, time-scaled (a 5 s call in a few milliseconds)', async () => {
    const clock = new RealTimeClock({ scale: 1000 });
    const sim = new TelephonySimulator({
      seed: 1,
      clock,
      engagements: [repLed],
      queues: [queueWith(1)],
      profile: { ...allLive, handleSeconds: { mean: 5, sigma: 0 } },
    });
    try {
      const event = new Promise<CallEvent>((resolve) => sim.onCallEvent(resolve));
      await sim.dial([request(1)]);
      await expect(event).resolves.toMatchObject({ result: 'LiveAnswer', handleSeconds: 5 });
    } finally {
      sim.close();
      clock.stop();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { allocateRepresentatives, type RepresentativeDemand } from '../../src/pacing/allocateRepresentatives.js';
import { makeEngagement, makeQueue } from '../support/engagements.js';
import { active, decisionOf, NOW, reps, tick } from './pacingFixtures.js';

const withFallback = (mode: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  makeEngagement({ dialMode: mode, routing: { primaryQueue: 'q1', fallbackQueue: 'q2' }, ...extra });
const progressive = { mode: 'progressive', maxCallsPerRepresentative: 2 };
const preview = { mode: 'preview' };
const queues = [makeQueue({ name: 'q1' }), makeQueue({ name: 'q2' })];

describe('allocateRepresentatives: fallback queues', () => {
  const demand = (engagementId: string, queue: string, wanted: number, fallbackQueue?: string, rank = 1): RepresentativeDemand => ({
    engagementId,
    queue,
    ...(fallbackQueue === undefined ? {} : { fallbackQueue }),
    rank,
    committed: 0,
    wanted,
  });

  it('what the first queue cannot give comes from the fallback, after the fallback queue served its own engagements', () => {
    const a = allocateRepresentatives(
      new Map([
        ['q1', reps(1, 'one')],
        ['q2', reps(3, 'two')],
      ]),
      [demand('spill', 'q1', 3, 'q2'), demand('own', 'q2', 1)],
      {},
    );
    expect(a.byEngagement.get('own')).toEqual(['two-01']);
    expect(a.byEngagement.get('spill')).toEqual(['one-01', 'two-02', 'two-03']);
    expect(a.fromFallback.get('spill')).toEqual(['two-02', 'two-03']);
    expect(a.fromFallback.get('own')).toBeUndefined();
  });

  it('a representative in both queues is dealt once', () => {
    const a = allocateRepresentatives(
      new Map([
        ['q1', ['shared']],
        ['q2', ['shared', 'only-two']],
      ]),
      [demand('spill', 'q1', 5, 'q2')],
      {},
    );
    expect(a.byEngagement.get('spill')).toEqual(['shared', 'only-two']);
  });

  it('the fallback is not touched while the first queue can meet the demand', () => {
    const a = allocateRepresentatives(
      new Map([
        ['q1', reps(3, 'one')],
        ['q2', reps(3, 'two')],
      ]),
      [demand('spill', 'q1', 2, 'q2')],
      {},
    );
    expect(a.byEngagement.get('spill')).toEqual(['one-01', 'one-02']);
    expect(a.fromFallback.get('spill')).toBeUndefined();
  });
});

describe('decidePacing: fallback queue and required skills', () => {
  it.each([
    ['progressive', progressive, 2 * 3],
    ['preview', preview, 3],
  ])('%s: no free representative in the primary queue, the fallback serves and the decision says so', (_name, mode, expected) => {
    const d = decisionOf(tick([withFallback(mode)], { queues, available: { q1: [], q2: reps(3, 'two') } }));
    expect(d.dialNow).toBe(expected);
    expect(d.routing.queuesUsed).toEqual(['q2']);
    expect(d.routing.fromFallback).toBe(3);
    expect(d.reason).toContain('fallback queue q2');
    if (mode.mode === 'preview') expect(d.reservedRepresentativeIds).toEqual(reps(3, 'two'));
  });

  it('copilot: escalations beyond the primary queue are taken by the fallback queue representatives', () => {
    const e = makeEngagement({
      type: 'ai-led',
      dialMode: { mode: 'copilot', maxConcurrentCalls: 50, maxCallsPerRepresentative: 1 },
      agentLeg: { purpose: 'a reminder', voicemail: { action: 'end' } },
      routing: { primaryQueue: 'q1', fallbackQueue: 'q2' },
    });
    const primaryOnly = decisionOf(tick([e], { queues, available: { q1: reps(1), q2: [] } }));
    const both = decisionOf(tick([e], { queues, available: { q1: reps(1), q2: reps(4, 'two') } }));
    expect(both.inputs.allocatedRepresentatives).toBe(5);
    expect(both.dialNow).toBeGreaterThan(primaryOnly.dialNow);
    expect(both.routing.queuesUsed).toEqual(['q1', 'q2']);
  });

  it('the primary queue is used first; the fallback only for what it cannot serve', () => {
    const d = decisionOf(tick([withFallback(progressive)], { queues, available: { q1: reps(1), q2: reps(3, 'two') }, pending: { 'test-engagement': 4 } }));
    expect(d.dialNow).toBe(4);
    expect(d.inputs.allocatedRepresentatives).toBe(2);
    expect(d.routing.queuesUsed).toEqual(['q1', 'q2']);
    expect(d.routing.fromFallback).toBe(1);
  });

  it('a fallback queue closed at this hour is not used', () => {
    const closed = makeQueue({ name: 'q2', operatingHours: { timeZone: 'UTC', days: { monday: [{ start: '09:00', end: '10:00' }] } } });
    const d = decisionOf(tick([withFallback(progressive)], { queues: [makeQueue({ name: 'q1' }), closed], available: { q1: [], q2: reps(3) } }));
    expect(d.dialNow).toBe(0);
    expect(d.routing.usableQueues).toEqual(['q1']);
    expect(d.routing.explanation).toContain('queue q2 outside its operating hours');
  });

  it('required skills: a queue without them is skipped, the skilled fallback serves', () => {
    const skilled = [makeQueue({ name: 'q1', skills: ['french'] }), makeQueue({ name: 'q2', skills: ['spanish', 'billing'] })];
    const e = withFallback(progressive, { routing: { primaryQueue: 'q1', fallbackQueue: 'q2', skills: ['spanish'] } });
    const d = decisionOf(tick([e], { queues: skilled, available: { q1: reps(3), q2: reps(1, 'two') } }));
    expect(d.queue).toBe('q2');
    expect(d.dialNow).toBe(2);
    expect(d.reservedRepresentativeIds).toEqual([]);
    expect(d.inputs.allocatedRepresentatives).toBe(1);
    expect(d.routing.usableQueues).toEqual(['q2']);
    expect(d.routing.explanation).toContain('queue q1 lacks the required skill(s) spanish');
  });

  it('required skills no queue has: paused, bound by missing-skills, naming what each queue lacks', () => {
    const e = makeEngagement({ dialMode: progressive, routing: { primaryQueue: 'q1', skills: ['spanish', 'billing'] } });
    const d = decisionOf(tick([e], { queues: [makeQueue({ name: 'q1', skills: ['billing'] })] }));
    expect(d.dialNow).toBe(0);
    expect(d.status).toBe('paused');
    expect(d.boundBy).toBe('missing-skills');
    expect(d.reason).toBe('no queue has the required skill(s): q1 lacks the required skill(s) spanish');
  });

  it('a primary queue with every required skill is used as before', () => {
    const e = makeEngagement({ dialMode: progressive, routing: { primaryQueue: 'q1', skills: ['billing'] } });
    const d = decisionOf(tick([e], { queues: [makeQueue({ name: 'q1', skills: ['billing', 'spanish'] })], active: { 'test-engagement': active() }, now: NOW }));
    expect(d.dialNow).toBe(6);
    expect(d.routing.queuesUsed).toEqual(['q1']);
    expect(d.routing.explanation).toBeUndefined();
  });
});

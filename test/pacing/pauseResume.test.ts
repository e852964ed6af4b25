import { describe, expect, it } from 'vitest';
import { emptyPacingState, parsePacingState, pauseEngagement, restartEngagement, resumeEngagement } from '../../src/pacing/pacingState.js';
import { makeEngagement } from '../support/engagements.js';
import { decisionOf, events, NOW, tick } from './pacingFixtures.js';

const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const progressive = (extra: Record<string, unknown> = {}) => makeEngagement({ dialMode: { mode: 'progressive', maxCallsPerRepresentative: 1 }, ...extra });

describe('operator pause and resume (pure state transitions)', () => {
  it('pause: no calls from the next tick, nothing cancelled; resume: dialing again', () => {
    const e = progressive();
    const running = tick([e]);
    expect(decisionOf(running).dialNow).toBe(3);
    const paused = pauseEngagement(running.state, e.id, 'list under review', later(1));
    expect(paused.changed).toBe(true);
    const held = tick([e], { now: later(2), state: paused.state });
    expect(decisionOf(held)).toMatchObject({ status: 'paused', dialNow: 0, boundBy: 'operator-paused', cancelQueuedDeliveries: false });
    expect(decisionOf(held).reason).toBe('paused by an operator: list under review');
    // Still paused many ticks later: only resume lifts it.
    const stillHeld = tick([e], { now: later(3600), state: held.state });
    expect(decisionOf(stillHeld).status).toBe('paused');

    const resumed = resumeEngagement(stillHeld.state, e.id);
    expect(resumed.changed).toBe(true);
    const after = tick([e], { now: later(3601), state: resumed.state });
    expect(decisionOf(after)).toMatchObject({ status: 'running', dialNow: 3 });
    // The stored shape stays valid (the store parses it back).
    expect(parsePacingState(JSON.parse(JSON.stringify(resumed.state)))).toEqual(resumed.state);
  });

  it('pause of an engagement pacing never saw, and pausing twice', () => {
    const first = pauseEngagement(emptyPacingState(), 'new-one', 'not yet', NOW);
    expect(first.changed).toBe(true);
    expect(first.state.engagements['new-one']?.hold).toEqual({
      status: 'paused',
      reason: 'paused by an operator: not yet',
      since: NOW.toISOString(),
      byOperator: true,
    });
    const again = pauseEngagement(first.state, 'new-one', 'again', later(5));
    expect(again).toMatchObject({ changed: false, why: 'already-paused' });
    expect(again.state).toBe(first.state);
  });

  it('resume cannot lift a rule pause or a stop (restart does), and pause does not hide their reason', () => {
    const e = progressive({ rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 60, decreaseByPercent: 100 }] });
    const tripped = tick([e], { outcomes: { 'test-engagement': [...events(95, 'LiveAnswer'), ...events(5, 'Abandoned')] } });
    expect(decisionOf(tripped).boundBy).toBe('paused-until-restart');
    const resume = resumeEngagement(tripped.state, e.id);
    expect(resume).toMatchObject({ changed: false, why: 'held', hold: { status: 'paused' } });
    const pause = pauseEngagement(tripped.state, e.id, 'me too', later(1));
    expect(pause).toMatchObject({ changed: false, why: 'held' });
    const restarted = restartEngagement(tripped.state, e.id, later(2));
    expect(restarted.engagements[e.id]?.hold).toBeUndefined();
  });

  it('resume of an engagement that is not paused changes nothing', () => {
    const state = tick([progressive()]).state;
    expect(resumeEngagement(state, 'test-engagement')).toMatchObject({ changed: false, why: 'not-paused' });
  });

  it('an id such as "__proto__" is paused as its own entry', () => {
    const paused = pauseEngagement(emptyPacingState(), '__proto__', 'odd id', NOW);
    expect(Object.hasOwn(paused.state.engagements, '__proto__')).toBe(true);
    expect(resumeEngagement(paused.state, '__proto__').changed).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { Random, deriveSeed } from '../../../src/dialers/simulator/random.js';
import { VirtualClock } from '../../../src/dialers/simulator/virtualClock.js';

describe('VirtualClock', () => {
  it('runs callbacks in time order, ties in scheduling order, with now() at each callback time', () => {
    const clock = new VirtualClock(1000);
    const seen: string[] = [];
    clock.schedule(3000, () => seen.push(`c@${clock.now()}`));
    clock.schedule(2000, () => seen.push(`a@${clock.now()}`));
    clock.schedule(2000, () => {
      seen.push(`b@${clock.now()}`);
      clock.schedule(2500, () => seen.push(`d@${clock.now()}`));
    });
    clock.advanceTo(2999);
    expect(seen).toEqual(['a@2000', 'b@2000', 'd@2500']);
    expect(clock.now()).toBe(2999);
    clock.advanceBy(1);
    expect(seen).toEqual(['a@2000', 'b@2000', 'd@2500', 'c@3000']);
  });

  it('a cancelled callback never runs and is not pending', () => {
    const clock = new VirtualClock(0);
    let ran = false;
    const id = clock.schedule(10, () => (ran = true));
    expect(clock.pending).toBe(1);
    clock.cancel(id);
    expect(clock.pending).toBe(0);
    clock.advanceBy(100);
    expect(ran).toBe(false);
  });

  it('a callback scheduled in the past runs at the current time, not before it', () => {
    const clock = new VirtualClock(500);
    let at = -1;
    clock.schedule(100, () => (at = clock.now()));
    clock.advanceBy(0);
    expect(at).toBe(500);
  });
});

describe('Random', () => {
  it('is reproducible per seed, and a derived seed separates keys', () => {
    const a = new Random(42);
    const b = new Random(42);
    expect([a.next(), a.next(), a.next()]).toEqual([b.next(), b.next(), b.next()]);
    expect(deriveSeed(1, 'delivery-1\u00001')).not.toBe(deriveSeed(1, 'delivery-2\u00001'));
    expect(deriveSeed(1, 'x')).not.toBe(deriveSeed(2, 'x'));
  });

  it('log-normal draws have the requested mean', () => {
    const r = new Random(3);
    let sum = 0;
    for (let i = 0; i < 50_000; i++) sum += r.logNormal(180, 0.5);
    expect(sum / 50_000).toBeGreaterThan(177);
    expect(sum / 50_000).toBeLessThan(183);
  });
});

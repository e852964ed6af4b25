import { describe, expect, it } from 'vitest';
import { allocateRepresentatives, type RepresentativeDemand } from '../../src/pacing/allocateRepresentatives.js';
import { reps } from './pacingFixtures.js';

const demand = (engagementId: string, rank: number, wanted: number, committed = 0, queue = 'q1'): RepresentativeDemand => ({
  engagementId,
  queue,
  rank,
  committed,
  wanted,
});

describe('allocateRepresentatives', () => {
  it('a higher priority takes what it wants first; a lower one gets the rest', () => {
    const a = allocateRepresentatives(new Map([['q1', reps(5)]]), [demand('normal', 1, 10), demand('critical', 3, 3)], {});
    expect(a.byEngagement.get('critical')).toEqual(['rep-01', 'rep-02', 'rep-03']);
    expect(a.byEngagement.get('normal')).toEqual(['rep-04', 'rep-05']);
  });

  it('equal priority: representatives dealt one at a time from the cursor, which then moves on', () => {
    const first = allocateRepresentatives(new Map([['q1', reps(5)]]), [demand('a', 1, 10), demand('b', 1, 10)], {});
    expect(first.byEngagement.get('a')).toEqual(['rep-01', 'rep-03', 'rep-05']);
    expect(first.byEngagement.get('b')).toEqual(['rep-02', 'rep-04']);
    expect(first.cursors).toEqual({ q1: { '1': 'b' } });
    const second = allocateRepresentatives(new Map([['q1', reps(5)]]), [demand('a', 1, 10), demand('b', 1, 10)], first.cursors);
    expect(second.byEngagement.get('b')).toHaveLength(3);
    expect(second.byEngagement.get('a')).toHaveLength(2);
  });

  it('representatives committed to calls in flight are served before any new demand, by priority', () => {
    const a = allocateRepresentatives(new Map([['q1', reps(2)]]), [demand('critical', 3, 5), demand('normal', 1, 0, 1)], {});
    expect(a.byEngagement.get('normal')).toEqual(['rep-01']);
    expect(a.byEngagement.get('critical')).toEqual(['rep-02']);
  });

  it('queues are separate budgets', () => {
    const a = allocateRepresentatives(
      new Map([
        ['q1', reps(1, 'one')],
        ['q2', reps(2, 'two')],
      ]),
      [demand('a', 3, 5, 0, 'q1'), demand('b', 1, 5, 0, 'q2')],
      {},
    );
    expect(a.byEngagement.get('a')).toEqual(['one-01']);
    expect(a.byEngagement.get('b')).toEqual(['two-01', 'two-02']);
  });

  it('a cursor naming an engagement that left resumes at the next id', () => {
    const a = allocateRepresentatives(new Map([['q1', reps(1)]]), [demand('a', 1, 5), demand('c', 1, 5)], { q1: { '1': 'b' } });
    expect(a.byEngagement.get('c')).toEqual(['rep-01']);
  });
});

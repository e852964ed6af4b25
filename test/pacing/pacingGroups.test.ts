import { describe, expect, it } from 'vitest';
import { fairShare, pacingGroups } from '../../src/pacing/pacingGroups.js';
import { makeEngagement } from '../support/engagements.js';

const on = (id: string, primaryQueue: string, fallbackQueue?: string) =>
  makeEngagement({ id, routing: { primaryQueue, ...(fallbackQueue === undefined ? {} : { fallbackQueue }), skills: [] } });

describe('pacing groups: engagements paced by one owner', () => {
  it('engagements on queues of their own are groups of their own', () => {
    const groups = pacingGroups([on('a', 'q1'), on('b', 'q2'), on('c', 'q3')]);

    expect(groups.map((g) => [g.key, g.engagements.map((e) => e.id)])).toEqual([
      ['q1', ['a']],
      ['q2', ['b']],
      ['q3', ['c']],
    ]);
  });

  it('engagements sharing a primary queue are one group, so priority between them is decided by one owner', () => {
    const groups = pacingGroups([on('a', 'q1'), on('b', 'q2'), on('c', 'q1')]);

    expect(groups.map((g) => [g.key, g.engagements.map((e) => e.id)])).toEqual([
      ['q1', ['a', 'c']],
      ['q2', ['b']],
    ]);
  });

  it('a fallback queue links groups, also through a chain of engagements', () => {
    const groups = pacingGroups([on('a', 'q1', 'q2'), on('b', 'q3'), on('c', 'q3', 'q4'), on('d', 'q4', 'q2'), on('e', 'q5')]);

    expect(groups.map((g) => [g.key, g.engagements.map((e) => e.id)])).toEqual([
      ['q1+q2+q3+q4', ['a', 'b', 'c', 'd']],
      ['q5', ['e']],
    ]);
    expect(groups[0]?.queues).toEqual(['q1', 'q2', 'q3', 'q4']);
  });

  it('no engagements: no groups', () => {
    expect(pacingGroups([])).toEqual([]);
  });
});

describe('pacing groups: the fair share of an instance', () => {
  it.each([
    [0, 1, 0],
    [5, 1, 5],
    [5, 2, 3],
    [4, 2, 2],
    [2, 3, 1],
    [3, 0, 3],
  ])('%i groups over %i live instances: each takes at most %i', (groups, instances, share) => {
    expect(fairShare(groups, instances)).toBe(share);
  });
});

import { describe, expect, it } from 'vitest';
import { classifyIntent, type Intent } from '../../src/agentLeg/classifyIntent.js';

const cases: readonly [string, Intent][] = [
  ['Yes, speaking.', 'yes'],
  ['yeah that’s me', 'yes'],
  ['I am', 'yes'],
  ['Sure, put me through to someone', 'yes'],
  ['I want to talk to a representative', 'yes'],
  ['No.', 'no'],
  ["No thanks, I'm not interested", 'no'],
  ['not really interested', 'no'],
  ["I'm not sure", 'unknown'],
  ['Call me back tomorrow at 3pm', 'callback'],
  ["I'm busy right now", 'callback'],
  ['not now', 'callback'],
  ['yes but can you call me later', 'callback'],
  ['Please stop calling me', 'stop'],
  ["Don't call me again", 'stop'],
  ['do not call', 'stop'],
  ['take my number off your list', 'stop'],
  ['I want to opt out', 'stop'],
  ['You have the wrong number', 'wrong-person'],
  ["she doesn't live here anymore", 'wrong-person'],
  ["he's not home", 'wrong-person'],
  ['No, this is her husband', 'wrong-person'],
  ['yes this is she', 'yes'],
  ['', 'unknown'],
  ['what is this about?', 'unknown'],
  ['yes no', 'unknown'],
];

describe('classifyIntent', () => {
  it.each(cases)('"%s" is %s', (text, expected) => {
    expect(classifyIntent(text, { firstName: 'Ana' })).toBe(expected);
  });

  it('a denial naming the contact is a wrong person, while "I\'m not interested" stays a no', () => {
    expect(classifyIntent('This is not Ana', { firstName: 'Ana' })).toBe('wrong-person');
    expect(classifyIntent('Ana is not here', { firstName: 'Ana' })).toBe('wrong-person');
    expect(classifyIntent("I'm not interested", { firstName: 'Ana' })).toBe('no');
  });

  it('a request not to be called outranks a callback in the same sentence', () => {
    expect(classifyIntent("don't call me again, not later, not ever")).toBe('stop');
  });
});

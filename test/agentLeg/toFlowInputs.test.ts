import { describe, expect, it } from 'vitest';
import { INITIAL_AGENT_LEG_STATE, stepAgentLeg } from '../../src/agentLeg/agentLegFlow.js';
import type { InboundActivity } from '../../src/agentLeg/inboundActivity.js';
import { toFlowInputs } from '../../src/agentLeg/toFlowInputs.js';
import { toReplyActivities, toSsml } from '../../src/agentLeg/toReplyActivities.js';
import { anaContextValue, engagement } from './support/agentLegFixtures.js';

const agent = { name: 'the Contoso assistant', id: 'app-1' };

function activity(fields: Partial<InboundActivity> & { type: string }): InboundActivity {
  return { channelId: 'msteams', from: { id: 'customer' }, recipient: { id: 'agent' }, conversation: { id: 'c-1' }, ...fields };
}

describe('toFlowInputs', () => {
  it('a first message carrying the context and an answer gives both, context first', () => {
    const inputs = toFlowInputs(activity({ type: 'message', text: ' yes ', channelData: { context: anaContextValue } }), agent);
    expect(inputs.map((i) => i.kind)).toEqual(['context', 'utterance']);
    expect(inputs[1]).toEqual({ kind: 'utterance', text: 'yes' });
  });

  it('answering-machine detection: an event by name, or any activity flagged in channelData', () => {
    expect(toFlowInputs(activity({ type: 'event', name: 'answeringMachineDetected' }), agent)).toEqual([{ kind: 'machine-detected' }]);
    expect(toFlowInputs(activity({ type: 'message', text: 'Hi, leave a message', channelData: { answeringMachineDetected: true } }), agent)).toEqual([
      { kind: 'machine-detected' },
    ]);
  });

  it('endOfConversation from the channel is a hang-up; typing and unknown events mean nothing', () => {
    expect(toFlowInputs(activity({ type: 'endOfConversation' }), agent)).toEqual([{ kind: 'hangup' }]);
    expect(toFlowInputs(activity({ type: 'typing' }), agent)).toEqual([]);
    expect(toFlowInputs(activity({ type: 'event', name: 'somethingElse' }), agent)).toEqual([]);
    expect(toFlowInputs(activity({ type: 'conversationUpdate' }), agent)).toEqual([]);
  });

  it('a Copilot Studio hand-off keeps its valid va_* fields and drops a malformed one rather than the hand-off', () => {
    const inputs = toFlowInputs(
      activity({ type: 'event', name: 'handoff.initiate', value: { va_LastTopic: 'Billing', va_Topics: [1, 2], va_BotName: 'Copilot' } }),
      agent,
    );
    expect(inputs).toEqual([{ kind: 'handoff-requested', fields: { va_LastTopic: 'Billing', va_BotName: 'Copilot' } }]);
  });

  it('a hand-off request carrying the context starts the call without a greeting', () => {
    const inputs = toFlowInputs(activity({ type: 'event', name: 'handoff.initiate', value: { ...anaContextValue, va_Scope: 'bot' } }), agent);
    const [context] = inputs;
    if (context?.kind !== 'context') throw new Error('expected the context first');
    expect(context.greet).toBe(false);
    const started = stepAgentLeg(INITIAL_AGENT_LEG_STATE, context, new Date('2026-03-07T23:00:00Z'), engagement('renewals'));
    expect(started.replies).toEqual([]);
    expect(started.state.step).toBe('right-party');
  });
});

describe('toReplyActivities', () => {
  const parties = {
    conversationId: 'c-1',
    channelId: 'msteams',
    agent: { id: 'agent', name: 'Agent' },
    customer: { id: 'customer' },
    locale: 'en-GB',
  };

  it("speech is SSML in the call's language, with markup characters escaped rather than interpreted", () => {
    expect(toSsml('Tom & Jerry <break/> "hi"', 'en-GB')).toBe(
      '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-GB">Tom &amp; Jerry &lt;break/&gt; &quot;hi&quot;</speak>',
    );
    expect(toReplyActivities([{ kind: 'say', text: 'Hello', inputHint: 'expectingInput' }], parties)).toEqual([
      { type: 'message', text: 'Hello', speak: toSsml('Hello', 'en-GB'), inputHint: 'expectingInput', locale: 'en-GB' },
    ]);
  });

  it('errors become an agentLeg.error event; the end an endOfConversation with its code', () => {
    expect(
      toReplyActivities(
        [
          { kind: 'error', code: 'MissingCallContext', message: 'no context' },
          { kind: 'end', code: 'unknown' },
        ],
        parties,
      ),
    ).toEqual([
      { type: 'event', name: 'agentLeg.error', value: { code: 'MissingCallContext', message: 'no context' } },
      { type: 'endOfConversation', code: 'unknown' },
    ]);
  });
});

describe('flow branches before the context', () => {
  const now = new Date('2026-03-07T23:00:00Z');

  it('a hang-up before any context ends quietly, with nothing to record', () => {
    expect(stepAgentLeg(INITIAL_AGENT_LEG_STATE, { kind: 'hangup' }, now, undefined)).toMatchObject({ replies: [], effects: [], state: { step: 'ended' } });
  });

  it('a capacity answer before any context changes nothing', () => {
    expect(stepAgentLeg(INITIAL_AGENT_LEG_STATE, { kind: 'capacity', available: {} }, now, undefined)).toEqual({
      state: INITIAL_AGENT_LEG_STATE,
      replies: [],
      effects: [],
    });
  });

  it('a shell failure before any context is an AgentLegFailed error event, nothing recorded', () => {
    const result = stepAgentLeg(INITIAL_AGENT_LEG_STATE, { kind: 'failure', reason: 'boom' }, now, undefined);
    expect(result.replies[0]).toMatchObject({ kind: 'error', code: 'AgentLegFailed' });
    expect(result.effects).toEqual([]);
  });

  it('a capacity answer while not handing off is ignored', () => {
    const started = stepAgentLeg(
      INITIAL_AGENT_LEG_STATE,
      { kind: 'context', context: { ...anaContextValue, locale: 'en-US', attributes: { ...anaContextValue.attributes } }, conversationId: 'c', agentName: 'a' },
      now,
      engagement('renewals'),
    );
    const result = stepAgentLeg(started.state, { kind: 'capacity', available: { 'renewals-voice': true } }, now, engagement('renewals'));
    expect(result).toEqual({ state: started.state, replies: [], effects: [] });
  });
});

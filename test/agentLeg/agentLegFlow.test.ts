import { describe, expect, it } from 'vitest';
import {
  MAX_TRANSCRIPT_CHARS,
  INITIAL_AGENT_LEG_STATE,
  MAX_REPROMPTS,
  stepAgentLeg,
  type AgentLegState,
  type FlowEffect,
  type FlowInput,
  type FlowReply,
  type FlowResult,
  type HandoffRequest,
} from '../../src/agentLeg/agentLegFlow.js';
import type { CallContext } from '../../src/agentLeg/callContext.js';
import { callEventSchema, type CallEvent } from '../../src/contacts/callEvent.js';
import type { EngagementConfig } from '../../src/engagement/engagementSchema.js';
import { anaContext, engagement } from './support/agentLegFixtures.js';

/** Saturday 2026-03-07 18:00 in New York (EST); the clocks go forward the next night. */
const T0 = '2026-03-07T23:00:00.000Z';

/** A call driven through the pure flow, one input at a time, keeping everything it produced. */
class Call {
  state: AgentLegState = INITIAL_AGENT_LEG_STATE;
  last: FlowResult = { state: INITIAL_AGENT_LEG_STATE, replies: [], effects: [] };
  readonly outcomes: CallEvent[] = [];

  constructor(
    private readonly config: EngagementConfig | undefined,
    private now = new Date(T0),
  ) {}

  send(input: FlowInput, secondsLater = 0): FlowResult {
    this.now = new Date(this.now.getTime() + secondsLater * 1000);
    this.last = stepAgentLeg(this.state, input, this.now, this.config);
    this.state = this.last.state;
    for (const effect of this.last.effects) if (effect.kind === 'record-outcome') this.outcomes.push(effect.event);
    return this.last;
  }

  start(context: CallContext = anaContext()): FlowResult {
    return this.send({ kind: 'context', context, conversationId: 'conv-1', agentName: 'the Contoso assistant', agentId: 'app-1' });
  }

  hear(text: string, secondsLater = 5): FlowResult {
    return this.send({ kind: 'utterance', text }, secondsLater);
  }

  spoken(): string[] {
    return this.last.replies.flatMap((r) => (r.kind === 'say' ? [r.text] : []));
  }
}

function kinds(replies: readonly FlowReply[]): string[] {
  return replies.map((r) => (r.kind === 'end' ? `end:${r.code}` : r.kind === 'error' ? `error:${r.code}` : r.kind));
}

function capacityCheck(effects: readonly FlowEffect[]): Extract<FlowEffect, { kind: 'check-capacity' }> {
  const check = effects.find((e): e is Extract<FlowEffect, { kind: 'check-capacity' }> => e.kind === 'check-capacity');
  if (check === undefined) throw new Error('no capacity check was asked for');
  return check;
}

function handoffOf(result: FlowResult): HandoffRequest {
  const reply = result.replies.find((r): r is Extract<FlowReply, { kind: 'handoff' }> => r.kind === 'handoff');
  if (reply === undefined) throw new Error('no hand-off was emitted');
  return reply.handoff;
}

/** Right party confirmed, purpose said: the call waits for the disposition. */
function callAtDisposition(config = engagement('renewals')): Call {
  const call = new Call(config);
  call.start();
  call.hear('Yes, speaking');
  return call;
}

describe('agent leg flow: greeting and right-party check', () => {
  it('greets by name and asks the right-party question before saying anything about the purpose', () => {
    const call = new Call(engagement('renewals'));
    const result = call.start();
    expect(call.spoken()).toEqual(['Hello, this is the Contoso assistant. Am I speaking with Ana?']);
    expect(result.replies[0]).toMatchObject({ inputHint: 'expectingInput' });
    expect(call.state.step).toBe('right-party');
    expect(result.effects).toEqual([]);
  });

  it('without a first name it asks for the account holder', () => {
    const call = new Call(engagement('renewals'));
    call.start(anaContext({ firstName: undefined }));
    expect(call.spoken()[0]).toContain('Am I speaking with the account holder?');
  });

  it('the right party hears the purpose with its input attributes, the date said in their zone', () => {
    const call = new Call(engagement('renewals'));
    call.start();
    call.hear('Yes, speaking');
    expect(call.spoken()).toEqual([
      "Thank you. I'm calling because your home insurance policy HP-4471 renews on Friday, March 20. Would you like to speak with a representative now? You can also ask us to call you back later.",
    ]);
    expect(call.state.step).toBe('disposition');
  });

  it('"no" at the right-party check is not the right party: goodbye, a reattempt-worthy disposition, purpose never said', () => {
    const call = new Call(engagement('renewals'));
    call.start();
    const result = call.hear('No');
    expect(kinds(result.replies)).toEqual(['say', 'end:completedSuccessfully']);
    expect(call.spoken()).toEqual(['Sorry for the trouble. Goodbye.']);
    expect(call.outcomes).toEqual([expect.objectContaining({ result: 'LiveAnswer', disposition: 'not-right-party', deliveryId: 'd-1001', attempt: 1 })]);
    expect(call.state.transcript.some((e) => e.text.includes('HP-4471'))).toBe(false);
  });

  it('"this is not Ana" is a wrong person', () => {
    const call = new Call(engagement('renewals'));
    call.start();
    call.hear('this is not Ana, this is her brother');
    expect(call.outcomes).toEqual([expect.objectContaining({ disposition: 'not-right-party' })]);
  });

  it(`an unrecognised answer is asked again ${MAX_REPROMPTS} times, then the call ends with no disposition`, () => {
    const call = new Call(engagement('renewals'));
    call.start();
    for (let i = 0; i < MAX_REPROMPTS; i++) {
      call.hear('hmm what');
      expect(call.spoken()[0]).toMatch(/^Sorry, I didn't catch that\. Am I speaking with Ana\?/);
      expect(call.outcomes).toEqual([]);
    }
    call.hear('hmm what');
    expect(call.spoken()).toEqual(["Sorry, I couldn't understand. We will try again another time. Goodbye."]);
    expect(call.outcomes).toHaveLength(1);
    expect(call.outcomes[0]).toMatchObject({ result: 'LiveAnswer' });
    expect(call.outcomes[0]?.disposition).toBeUndefined();
  });
});

describe('agent leg flow: disposition', () => {
  it('interested: asks both queues for capacity; primary free -> hand-off to the primary with full context', () => {
    const call = callAtDisposition();
    const asked = call.hear('yes please', 10);
    expect(asked.replies).toEqual([]);
    expect(capacityCheck(asked.effects)).toEqual({
      kind: 'check-capacity',
      queues: ['renewals-voice', 'renewals-overflow'],
      skills: ['renewals', 'english'],
    });
    expect(call.state.step).toBe('handing-off');

    const result = call.send({ kind: 'capacity', available: { 'renewals-voice': true } });
    expect(kinds(result.replies)).toEqual(['say', 'handoff']);
    expect(result.replies[0]).toMatchObject({ text: "Thank you. I'm connecting you with a representative now. Please hold.", inputHint: 'ignoringInput' });
    const handoff = handoffOf(result);
    expect(handoff).toMatchObject({
      queue: 'renewals-voice',
      primaryQueue: 'renewals-voice',
      fallbackUsed: false,
      skills: ['renewals', 'english'],
      priority: 'high',
      engagementId: 'renewals',
      deliveryId: 'd-1001',
      attempt: 1,
      disposition: 'interested',
      firstName: 'Ana',
      attributes: { policyNumber: 'HP-4471', renewalDate: '2026-03-20' },
    });
    expect(handoff.copilotStudio).toMatchObject({
      va_Scope: 'bot',
      va_LastTopic: 'Hand-off',
      va_Topics: ['Right-party check', 'Purpose', 'Hand-off'],
      va_LastPhrase: 'yes please',
      va_Phrases: ['Yes, speaking', 'yes please'],
      va_ConversationId: 'conv-1',
      va_BotId: 'app-1',
      va_BotName: 'the Contoso assistant',
      va_Language: 'en-US',
    });
    expect(handoff.copilotStudio.va_AgentMessage).toBe(
      'Proactive call "Policy renewal reminders", attempt 1: Ana confirmed their identity and asked for a representative about your home insurance policy HP-4471 renews on Friday, March 20. Customer local time 18:00 EST.',
    );
    expect(handoff.transcript.map((e) => e.from)).toEqual(['agent', 'customer', 'agent', 'customer', 'agent']);
    expect(call.outcomes).toEqual([
      {
        engagementId: 'renewals',
        deliveryId: 'd-1001',
        attempt: 1,
        result: 'LiveAnswer',
        disposition: 'interested',
        escalated: true,
        at: '2026-03-07T23:00:15.000Z',
        handleSeconds: 15,
      },
    ]);
    expect(call.state.step).toBe('ended');
  });

  it('primary full, fallback free: the hand-off goes to the fallback queue', () => {
    const call = callAtDisposition();
    call.hear('I want to talk to a representative');
    const handoff = handoffOf(call.send({ kind: 'capacity', available: { 'renewals-voice': false, 'renewals-overflow': true } }));
    expect(handoff).toMatchObject({ queue: 'renewals-overflow', fallbackUsed: true, primaryQueue: 'renewals-voice' });
  });

  it('nobody free anywhere: the customer waits in the primary queue rather than being dropped', () => {
    const call = callAtDisposition();
    call.hear('sure');
    const handoff = handoffOf(call.send({ kind: 'capacity', available: { 'renewals-voice': false, 'renewals-overflow': false } }));
    expect(handoff).toMatchObject({ queue: 'renewals-voice', fallbackUsed: false });
    expect(call.outcomes).toEqual([expect.objectContaining({ disposition: 'interested', escalated: true })]);
  });

  it('not interested: goodbye and a not-interested outcome', () => {
    const call = callAtDisposition();
    const result = call.hear("No thanks, I'm not interested");
    expect(call.spoken()).toEqual(['Thank you for your time. Goodbye.']);
    expect(kinds(result.replies)).toEqual(['say', 'end:completedSuccessfully']);
    expect(call.outcomes).toEqual([expect.objectContaining({ result: 'LiveAnswer', disposition: 'not-interested' })]);
  });

  it('do not contact at the purpose: the do-not-contact disposition feeds the DNC list', () => {
    const call = callAtDisposition();
    call.hear('Stop calling me');
    expect(call.spoken()).toEqual(['Understood. We will not call this number again. Goodbye.']);
    expect(call.outcomes).toEqual([expect.objectContaining({ result: 'LiveAnswer', disposition: 'do-not-contact' })]);
  });

  it('do not contact at the very first question is honoured too', () => {
    const call = new Call(engagement('renewals'));
    call.start();
    call.hear("don't call this number again");
    expect(call.outcomes).toEqual([expect.objectContaining({ disposition: 'do-not-contact' })]);
  });
});

describe("agent leg flow: callbacks in the contact's zone", () => {
  it('"tomorrow at 3pm" across the spring-forward night: callbackAt is 15:00 EDT, said back in local time', () => {
    const call = callAtDisposition();
    call.hear('Can you call me back tomorrow at 3pm?', 0);
    expect(call.spoken()).toEqual(['Thank you. We will call you back on Sunday, March 8 at 3:00 PM. Goodbye.']);
    expect(call.outcomes).toEqual([expect.objectContaining({ result: 'LiveAnswer', disposition: 'callback', callbackAt: '2026-03-08T19:00:00.000Z' })]);
  });

  it('a callback without a time asks for one; "at 17:30" then schedules it (tomorrow, as 17:30 has passed)', () => {
    const call = callAtDisposition();
    call.hear("I'm busy right now");
    expect(call.spoken()).toEqual(['Of course. When should we call you back? For example, tomorrow at 3 PM.']);
    expect(call.state.step).toBe('callback-time');
    call.hear('at 17:30');
    expect(call.outcomes).toEqual([expect.objectContaining({ disposition: 'callback', callbackAt: '2026-03-08T21:30:00.000Z' })]);
  });

  it('a callback outside legal calling hours is refused with the hours, then a good time is taken', () => {
    const call = callAtDisposition();
    call.hear('call me back at 10pm');
    expect(call.spoken()).toEqual(['We can call you between 8:00 AM and 9:00 PM your time. What time would suit you?']);
    expect(call.outcomes).toEqual([]);
    call.hear('ok, tomorrow at 9 in the morning');
    expect(call.outcomes).toEqual([expect.objectContaining({ disposition: 'callback', callbackAt: '2026-03-08T13:00:00.000Z' })]);
  });

  it('a callback more than two weeks out is refused', () => {
    const call = callAtDisposition();
    call.hear('call me back on 2026-05-01T10:00');
    expect(call.spoken()).toEqual(['We can schedule a call back within the next 14 days. Which day and time would suit you?']);
  });

  it('no usable time after the reprompts: a callback is still recorded, without a time', () => {
    const call = callAtDisposition();
    call.hear('call me later');
    for (let i = 0; i < MAX_REPROMPTS; i++) call.hear('whenever');
    expect(call.outcomes).toEqual([]);
    call.hear('dunno');
    expect(call.spoken()).toEqual(['Thank you. We will call you back another time. Goodbye.']);
    expect(call.outcomes).toHaveLength(1);
    expect(call.outcomes[0]).toMatchObject({ disposition: 'callback' });
    expect(call.outcomes[0]?.callbackAt).toBeUndefined();
  });

  it('asked for a time, the customer says no after all: not interested', () => {
    const call = callAtDisposition();
    call.hear('later');
    call.hear('no, forget it');
    expect(call.outcomes).toEqual([expect.objectContaining({ disposition: 'not-interested' })]);
  });
});

describe('agent leg flow: machines, hang-ups, timeouts and failures', () => {
  it("answering machine: the engagement's voicemail message is left, AnsweringMachine/voicemail recorded", () => {
    const call = new Call(engagement('renewals'));
    call.start();
    const result = call.send({ kind: 'machine-detected' }, 3);
    expect(result.replies).toEqual([
      { kind: 'say', text: 'Hello, this is Contoso Insurance about your policy renewal. Please call us back.', inputHint: 'ignoringInput' },
      { kind: 'end', code: 'completedSuccessfully' },
    ]);
    expect(call.outcomes).toEqual([expect.objectContaining({ result: 'AnsweringMachine', disposition: 'voicemail', handleSeconds: 3 })]);
  });

  it('answering machine with voicemail "end": nothing is said, AnsweringMachine without a voicemail', () => {
    const call = new Call(engagement('renewals-no-voicemail'));
    call.start(anaContext({ engagementId: 'renewals-no-voicemail' }));
    const result = call.send({ kind: 'machine-detected' });
    expect(kinds(result.replies)).toEqual(['end:completedSuccessfully']);
    expect(call.outcomes).toHaveLength(1);
    expect(call.outcomes[0]).toMatchObject({ result: 'AnsweringMachine' });
    expect(call.outcomes[0]?.disposition).toBeUndefined();
  });

  it('the customer hangs up mid-call: CallEnded, nothing said', () => {
    const call = callAtDisposition();
    const result = call.send({ kind: 'hangup' });
    expect(kinds(result.replies)).toEqual(['end:completedSuccessfully']);
    expect(call.outcomes).toEqual([expect.objectContaining({ result: 'CallEnded' })]);
  });

  it('a turn after agentLeg.timeoutSeconds is a BotFailed timeout (apology, agentTimedOut)', () => {
    const call = new Call(engagement('renewals-no-voicemail')); // timeoutSeconds 60
    call.start(anaContext({ engagementId: 'renewals-no-voicemail' }));
    const result = call.hear('yes', 61);
    expect(kinds(result.replies)).toEqual(['say', 'end:agentTimedOut']);
    expect(call.outcomes).toEqual([expect.objectContaining({ result: 'BotFailed', handleSeconds: 61 })]);
  });

  it('a conversation resumed after more than 24 h reports an outcome every reader accepts (handle time capped at a day)', () => {
    const call = new Call(engagement('renewals'));
    call.start();
    call.send({ kind: 'machine-detected' }, 90_000);
    expect(call.outcomes).toHaveLength(1);
    expect(call.outcomes[0]?.handleSeconds).toBe(86_400);
    expect(callEventSchema.safeParse(call.outcomes[0]).success).toBe(true);
  });

  it('the transcript keeps only the newest MAX_TRANSCRIPT_CHARS characters, so the state always fits in storage', () => {
    const call = new Call(engagement('renewals'));
    call.start();
    for (let i = 0; i < 10; i++) call.hear(`${'x'.repeat(19_990)}${i}`.padEnd(20_000, 'y'), 1);
    const chars = call.state.transcript.reduce((n, e) => n + e.text.length, 0);
    expect(chars).toBeLessThanOrEqual(MAX_TRANSCRIPT_CHARS);
    expect(call.state.transcript.length).toBeGreaterThan(0);
  });

  it('exactly at the timeout the call goes on', () => {
    const call = new Call(engagement('renewals-no-voicemail'));
    call.start(anaContext({ engagementId: 'renewals-no-voicemail' }));
    call.hear('yes', 60);
    expect(call.state.step).toBe('disposition');
  });

  it('a failure in the shell is a BotFailed outcome, and the customer hears an apology', () => {
    const call = callAtDisposition();
    const result = call.send({ kind: 'failure', reason: 'storage unavailable' });
    expect(kinds(result.replies)).toEqual(['say', 'end:unknown']);
    expect(call.outcomes).toEqual([expect.objectContaining({ result: 'BotFailed' })]);
  });

  it('once ended, every further input is ignored (no second outcome)', () => {
    const call = callAtDisposition();
    call.hear('no');
    for (const input of [{ kind: 'utterance', text: 'yes' }, { kind: 'machine-detected' }, { kind: 'hangup' }] as const) {
      expect(call.send(input)).toMatchObject({ replies: [], effects: [] });
    }
    expect(call.outcomes).toHaveLength(1);
  });

  it('a second context (a redelivered startConversation) changes nothing', () => {
    const call = callAtDisposition();
    const before = call.state;
    const result = call.start(anaContext({ deliveryId: 'd-other' }));
    expect(result).toEqual({ state: before, replies: [], effects: [] });
  });
});

describe('agent leg flow: missing or unusable context', () => {
  it('an answer before any context: an error event and the end, nothing recorded (no delivery to record against)', () => {
    const call = new Call(engagement('renewals'));
    const result = call.hear('hello?');
    expect(kinds(result.replies)).toEqual(['error:MissingCallContext', 'end:unknown']);
    expect(result.effects).toEqual([]);
    expect(call.state.step).toBe('ended');
  });

  it('an invalid context naming its delivery: BotFailed for that delivery, the issues in the error event', () => {
    const call = new Call(engagement('renewals'));
    const result = call.send({
      kind: 'context-invalid',
      issues: [{ path: 'value.timeZone', message: 'expected an IANA time zone' }],
      ids: { engagementId: 'renewals', deliveryId: 'd-9', attempt: 2 },
    });
    expect(result.replies[0]).toEqual({
      kind: 'error',
      code: 'InvalidCallContext',
      message: 'the call context is invalid',
      issues: [{ path: 'value.timeZone', message: 'expected an IANA time zone' }],
    });
    expect(call.outcomes).toEqual([{ engagementId: 'renewals', deliveryId: 'd-9', attempt: 2, result: 'BotFailed', at: T0 }]);
  });

  it('an unknown engagement: BotFailed with an EngagementNotFound error', () => {
    const call = new Call(undefined);
    const result = call.start(anaContext({ engagementId: 'gone' }));
    expect(kinds(result.replies)).toEqual(['error:EngagementNotFound', 'say', 'end:unknown']);
    expect(call.outcomes).toEqual([expect.objectContaining({ engagementId: 'gone', result: 'BotFailed' })]);
  });

  it('a representative-led engagement has no agent leg: BotFailed', () => {
    const call = new Call(engagement('collections'));
    const result = call.start(anaContext({ engagementId: 'collections' }));
    expect(kinds(result.replies)[0]).toBe('error:EngagementNotAiLed');
    expect(call.outcomes).toEqual([expect.objectContaining({ result: 'BotFailed' })]);
  });

  it('the purpose names an attribute the delivery lacks: BotFailed naming it, never a sentence with a hole', () => {
    const call = new Call(engagement('renewals'));
    const result = call.start(anaContext({ attributes: { policyNumber: 'HP-4471' } }));
    expect(result.replies[0]).toMatchObject({
      kind: 'error',
      code: 'MissingInputAttribute',
      issues: [{ path: 'attributes.renewalDate', message: 'required by the engagement purpose' }],
    });
    expect(call.outcomes).toEqual([expect.objectContaining({ result: 'BotFailed' })]);
  });
});

describe('agent leg flow: Copilot Studio bridge', () => {
  it('a handoff.initiate from Copilot Studio hands off at once, keeping its va_* fields and note', () => {
    const call = new Call(engagement('renewals'));
    call.start();
    const asked = call.send({
      kind: 'handoff-requested',
      fields: {
        va_Scope: 'bot',
        va_LastTopic: 'Renewal questions',
        va_Topics: ['Greeting', 'Renewal questions'],
        va_LastPhrase: 'can I change my deductible',
        va_ConversationId: 'pva-conv-7',
        va_AgentMessage: 'Customer wants to change the deductible.',
        va_BotId: 'pva-bot',
        va_BotName: 'Contoso Copilot',
        va_Language: 'en-us',
      },
    });
    expect(capacityCheck(asked.effects).queues).toEqual(['renewals-voice', 'renewals-overflow']);
    const handoff = handoffOf(call.send({ kind: 'capacity', available: { 'renewals-voice': true } }));
    expect(handoff.copilotStudio).toMatchObject({
      va_LastTopic: 'Renewal questions',
      va_LastPhrase: 'can I change my deductible',
      va_ConversationId: 'pva-conv-7',
      va_BotId: 'pva-bot',
      va_BotName: 'Contoso Copilot',
      va_Language: 'en-us',
      va_Topics: ['Greeting', 'Renewal questions', 'Right-party check', 'Hand-off'],
    });
    expect(handoff.copilotStudio.va_AgentMessage).toMatch(
      /^Customer wants to change the deductible\. Proactive call "Policy renewal reminders", attempt 1: Ana \(identity not confirmed by the agent\) asked for a representative/,
    );
    expect(call.outcomes).toEqual([expect.objectContaining({ disposition: 'interested', escalated: true })]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCopilotStudioStandIn, type CopilotStudioStandInHandle } from '../../dev/copilotStudio/standIn.js';
import { loadAgentScripts, type AgentScripts } from '../../dev/copilotStudio/agentScript.js';
import { freePort } from '../../dev/freePort.js';
import { parseAgentLegSettings } from '../../src/agentLeg/agentLegSettings.js';
import { CopilotStudioEngine, type Deadline } from '../../src/agentLeg/copilotStudioEngine.js';
import { createCopilotStudioTokenSource } from '../../src/agentLeg/copilotStudioTokens.js';
import { loadEngagementFile, parseEngagementFile, type EngagementCatalog } from '../../src/engagement/loadEngagementFile.js';
import { evaluateFailurePolicy } from '../../src/pacing/evaluateFailurePolicy.js';
import { summarizeOutcomes } from '../../src/pacing/summarizeOutcomes.js';
import { AgentLegWorld, says, startConversation } from './support/agentLegWorld.js';

const ENGAGEMENT = 'policy-renewal-copilot-studio';
const context = (engagementId = ENGAGEMENT, deliveryId = 'd-1') => ({
  engagementId,
  deliveryId,
  attempt: 1,
  firstName: 'Ana',
  timeZone: 'America/New_York',
  attributes: { policyNumber: 'HP-4471' },
});

/** Agents beside the sample: one that stalls on its second turn, one whose end carries a bad disposition. */
function scripts(): AgentScripts {
  const sample = loadAgentScripts('config/copilot-studio.sample.json');
  const intents = { yes: ['yes'] };
  return {
    agents: {
      ...sample.agents,
      stalling_agent: {
        intents,
        start: 'greet',
        anywhere: {},
        fallback: 'Sorry?',
        topics: {
          greet: { say: ['Hello {firstName}, are you there?'], stream: false, then: { yes: 'think' }, stall: false },
          think: { say: [], stream: false, then: {}, stall: true },
        },
      },
      sloppy_agent: {
        intents,
        start: 'greet',
        anywhere: {},
        fallback: 'Sorry?',
        topics: {
          greet: { say: ['Hello {firstName}?'], stream: false, then: { yes: 'bye' }, stall: false },
          bye: { say: ['Bye.'], stream: false, then: {}, stall: false, end: { disposition: 'maybe' } },
        },
      },
    },
  };
}

let standIn: CopilotStudioStandInHandle;
let catalog: EngagementCatalog;
let closedPort: number;

/** The deadline of a relay passes when the stand-in holds a stalled answer open: no clock involved. */
const whenStalled: Deadline = (_ms, signal) =>
  new Promise((resolve) => {
    const fire = () => resolve();
    standIn.events.once('stalled', fire);
    signal.addEventListener('abort', () => standIn.events.off('stalled', fire), { once: true });
  });

beforeAll(async () => {
  standIn = await startCopilotStudioStandIn({ agents: scripts() });
  closedPort = await freePort();
  const sample = await loadEngagementFile('config/engagements.copilot-studio.sample.json');
  const base = sample.engagements.get(ENGAGEMENT);
  if (base === undefined) throw new Error('the Copilot Studio sample engagement is missing');
  const variant = (id: string, engine: Record<string, unknown>, failurePolicy?: Record<string, unknown>) => ({
    ...base,
    id,
    agentLeg: { ...base.agentLeg, engine: { kind: 'copilot-studio', turnTimeoutSeconds: 20, ...engine } },
    ...(failurePolicy === undefined ? {} : { agentFailurePolicy: failurePolicy }),
  });
  catalog = parseEngagementFile({
    queues: [...sample.queues.values()],
    engagements: [
      base,
      variant('stalling', { schemaName: 'stalling_agent' }, { action: 'stop' }),
      variant('sloppy', { schemaName: 'sloppy_agent' }),
      variant('unreachable', { schemaName: 'contoso_outboundRenewals', directConnectUrl: `http://127.0.0.1:${closedPort}/bots/x` }),
    ],
  });
});

afterAll(async () => {
  await standIn.stop();
});

function world(free: Record<string, boolean> = { 'renewals-voice': true }): AgentLegWorld {
  const settings = parseAgentLegSettings({ copilotStudio: { auth: 'none', directConnectUrl: standIn.url } });
  const engine = new CopilotStudioEngine({
    settings: settings.copilotStudio,
    tokens: createCopilotStudioTokenSource(settings.copilotStudio),
    deadline: whenStalled,
  });
  return new AgentLegWorld({ engine, catalog, free });
}

const texts = (activities: Record<string, unknown>[]) => activities.filter((a) => a['type'] === 'message').map((a) => a['text']);
const handoffOf = (activities: Record<string, unknown>[]) => activities.find((a) => a['type'] === 'event' && a['name'] === 'handoff.initiate');

describe('Copilot Studio bridge, through the real client against the local stand-in', () => {
  it('the agent greets with the contact name from the call context, and hands off to the primary queue with its note', async () => {
    const w = world();
    const greeted = await w.post(startConversation(context()));
    expect(greeted.status).toBe(200);
    expect(texts(greeted.activities)).toEqual(['Hello, this is the Contoso Insurance virtual assistant. Am I speaking with Ana?']);
    const state = await w.storedState();
    const relay = state?.['relay'] as { conversationId: string } | undefined;
    expect(relay?.conversationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(standIn.variablesOf(relay?.conversationId ?? '')).toEqual({
      policyNumber: 'HP-4471',
      engagementId: ENGAGEMENT,
      deliveryId: 'd-1',
      attempt: 1,
      firstName: 'Ana',
      purpose: 'your home insurance policy HP-4471 renews soon',
      timeZone: 'America/New_York',
      locale: 'en-US',
    });

    // The purpose topic streams its answer: said once, whole.
    const purpose = await w.post(says('yes, speaking'));
    expect(texts(purpose.activities)).toEqual([
      "Thank you, Ana. I'm calling because your home insurance policy HP-4471 renews soon. Would you like to speak with a representative now, or should we call you back?",
    ]);

    const transferred = await w.post(says('can I talk to a person please'));
    expect(texts(transferred.activities)).toEqual(['Of course. Let me connect you with a representative.']);
    const handoff = handoffOf(transferred.activities);
    const value = handoff?.['value'] as Record<string, unknown>;
    expect(value).toMatchObject({
      queue: 'renewals-voice',
      fallbackUsed: false,
      skills: ['renewals'],
      priority: 'high',
      deliveryId: 'd-1',
      va_LastTopic: 'transfer',
    });
    expect(value['va_AgentMessage']).toMatch(
      /^Ana asked for a representative about policy HP-4471 \(delivery d-1\)\. Proactive call .*Copilot Studio agent contoso_outboundRenewals/,
    );
    expect(value['va_Topics']).toEqual(expect.arrayContaining(['greet', 'purpose', 'transfer']));
    const transcript = (handoff?.['attachments'] as { content: { activities: { text: string }[] } }[])[0]?.content.activities.map((a) => a.text);
    expect(transcript).toEqual([
      'Hello, this is the Contoso Insurance virtual assistant. Am I speaking with Ana?',
      'yes, speaking',
      expect.stringContaining('renews soon'),
      'can I talk to a person please',
      'Of course. Let me connect you with a representative.',
    ]);
    expect(w.outcomes.events).toMatchObject([{ deliveryId: 'd-1', result: 'LiveAnswer', disposition: 'interested', escalated: true }]);
  });

  it('hands off to the fallback queue when the primary has nobody free', async () => {
    const w = world({ 'renewals-voice': false, 'renewals-overflow': true });
    await w.post(startConversation(context(ENGAGEMENT, 'd-2')));
    const transferred = await w.post(says('a representative please'));
    expect(handoffOf(transferred.activities)?.['value']).toMatchObject({ queue: 'renewals-overflow', primaryQueue: 'renewals-voice', fallbackUsed: true });
    expect(w.capacity.asked.map((a) => a.queue)).toEqual(['renewals-voice', 'renewals-overflow']);
  });

  it("the agent's end of conversation records its disposition", async () => {
    const w = world();
    await w.post(startConversation(context(ENGAGEMENT, 'd-3')));
    const ended = await w.post(says('no'));
    expect(texts(ended.activities)).toEqual(['Sorry for the trouble. Goodbye.']);
    expect(ended.activities.at(-1)).toMatchObject({ type: 'endOfConversation' });
    expect(w.outcomes.events).toMatchObject([{ deliveryId: 'd-3', result: 'LiveAnswer', disposition: 'not-right-party' }]);
  });

  it('an agent time-out records BotFailed, the failure policy stops the engagement, and a free representative takes the call', async () => {
    const w = world();
    const greeted = await w.post(startConversation(context('stalling', 'd-4')));
    expect(texts(greeted.activities)).toEqual(['Hello Ana, are you there?']);
    const stalled = await w.post(says('yes'));
    expect(texts(stalled.activities)).toEqual(["Sorry, I'm having trouble on my side. Let me connect you with a representative. Please hold."]);
    const handoff = handoffOf(stalled.activities)?.['value'] as Record<string, unknown>;
    expect(handoff).toMatchObject({ queue: 'renewals-voice' });
    expect(handoff['va_AgentMessage']).toContain('handed over after a failure (EngineTimedOut)');
    expect(w.outcomes.events).toMatchObject([{ deliveryId: 'd-4', result: 'BotFailed', escalated: true }]);
    expect(w.logs.some((line) => line.includes('EngineTimedOut'))).toBe(true);

    const engagement = catalog.engagements.get('stalling');
    const summary = summarizeOutcomes(w.outcomes.events, w.now, 60);
    const policy = evaluateFailurePolicy(engagement?.agentFailurePolicy ?? { action: 'continue-until', failureRatePercent: 1 }, summary);
    expect(policy).toMatchObject({ action: 'stop', botFailures: 1, tripped: true });
  });

  it('a time-out with nobody free: an apology, the end of the call, BotFailed', async () => {
    const w = world({});
    await w.post(startConversation(context('stalling', 'd-5')));
    const stalled = await w.post(says('yes'));
    expect(handoffOf(stalled.activities)).toBeUndefined();
    expect(texts(stalled.activities)).toEqual(['Sorry, something went wrong on our side. We will call you again later. Goodbye.']);
    expect(stalled.activities.at(-1)).toMatchObject({ type: 'endOfConversation' });
    expect(w.outcomes.events).toMatchObject([{ deliveryId: 'd-5', result: 'BotFailed' }]);
  });

  it('Copilot Studio unreachable: BotFailed at once (no waiting for the time-out), and the hand-off', async () => {
    const w = world();
    const greeted = await w.post(startConversation(context('unreachable', 'd-6')));
    expect(handoffOf(greeted.activities)?.['value']).toMatchObject({ queue: 'renewals-voice' });
    expect(w.outcomes.events).toMatchObject([{ deliveryId: 'd-6', result: 'BotFailed', escalated: true }]);
    expect(w.logs.some((line) => line.includes('EngineUnreachable') && line.includes('ECONNREFUSED'))).toBe(true);
  });

  it('a malformed end of conversation (an unknown disposition) is BotFailed, naming the field', async () => {
    const w = world({});
    await w.post(startConversation(context('sloppy', 'd-7')));
    await w.post(says('yes'));
    expect(w.outcomes.events).toMatchObject([{ deliveryId: 'd-7', result: 'BotFailed' }]);
    expect(w.logs.some((line) => line.includes('EngineMalformedActivity') && line.includes('value.disposition'))).toBe(true);
  });

  it('the customer hanging up records CallEnded and closes the agent conversation', async () => {
    const w = world();
    await w.post(startConversation(context(ENGAGEMENT, 'd-8')));
    const conversationId = ((await w.storedState())?.['relay'] as { conversationId: string }).conversationId;
    const closed = new Promise<string>((resolve) => {
      const seen = (turn: { conversationId: string; type: string }) => {
        if (turn.conversationId === conversationId && turn.type === 'endOfConversation') {
          standIn.events.off('received', seen);
          resolve(turn.type);
        }
      };
      standIn.events.on('received', seen);
    });
    await w.post({ type: 'endOfConversation' });
    expect(await closed).toBe('endOfConversation');
    expect(w.outcomes.events).toMatchObject([{ deliveryId: 'd-8', result: 'CallEnded' }]);
  });
});

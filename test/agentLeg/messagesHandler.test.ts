import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentLegSettingsInput } from '../../src/agentLeg/agentLegSettings.js';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import type { OutcomeRecorder, RecordOutcomeResult } from '../../src/agentLeg/ports.js';
import { InMemoryOutcomeRecorder } from '../../src/agentLeg/inMemoryPorts.js';
import { anaContextValue } from './support/agentLegFixtures.js';
import { AgentLegWorld, says, SERVICE_URL, startConversation } from './support/agentLegWorld.js';
import {
  BOT_APP_ID,
  channelToken,
  COPILOT_APP_ID,
  entraToken,
  newSigningKey,
  OTHER_TENANT_ID,
  serveSigningKeys,
  STRANGER_APP_ID,
  TENANT_ID,
} from './support/tokens.js';

const key = newSigningKey();
const forger = newSigningKey(key.kid); // same key id, different key: what an attacker can do

const production: AgentLegSettingsInput = {
  appId: BOT_APP_ID,
  tenantId: TENANT_ID,
  credential: { kind: 'client-secret', secret: 'not-a-real-secret' },
  allowedCallers: [COPILOT_APP_ID],
  agentName: 'the Contoso assistant',
  production: true,
};

beforeAll(() => {
  nock.disableNetConnect();
  serveSigningKeys(key);
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('POST /api/messages with signed tokens (expectReplies)', () => {
  it('a Copilot Studio skill call (Entra token, allowed caller) runs the call to a hand-off with the transcript attached', async () => {
    const world = new AgentLegWorld({ settings: production, free: { 'renewals-voice': false, 'renewals-overflow': true } });
    const token = entraToken(key);

    const greeting = await world.post(startConversation(anaContextValue), { token });
    expect(greeting.status).toBe(200);
    expect(greeting.activities).toHaveLength(1);
    expect(greeting.activities[0]).toMatchObject({
      type: 'message',
      text: 'Hello, this is the Contoso assistant. Am I speaking with Ana?',
      speak:
        '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">Hello, this is the Contoso assistant. Am I speaking with Ana?</speak>',
      inputHint: 'expectingInput',
      channelId: 'msteams',
      conversation: { id: 'conv-1' },
      recipient: { id: 'customer-1' },
    });
    expect(greeting.activities[0]).not.toHaveProperty('_channelId');

    world.now = new Date('2026-03-07T23:00:08Z');
    const purpose = await world.post(says('yes, speaking'), { token });
    expect(purpose.activities[0]?.['text']).toContain('your home insurance policy HP-4471 renews on Friday, March 20');

    world.now = new Date('2026-03-07T23:00:20Z');
    const handoff = await world.post(says('yes please'), { token });
    expect(handoff.activities.map((a) => [a['type'], a['name']])).toEqual([
      ['message', undefined],
      ['event', 'handoff.initiate'],
    ]);
    const event = handoff.activities[1] ?? {};
    expect(event['value']).toMatchObject({
      queue: 'renewals-overflow',
      primaryQueue: 'renewals-voice',
      fallbackUsed: true,
      skills: ['renewals', 'english'],
      priority: 'high',
      priorityRank: 2,
      engagementId: 'renewals',
      deliveryId: 'd-1001',
      attempt: 1,
      disposition: 'interested',
      va_Scope: 'bot',
      va_ConversationId: 'conv-1',
      va_BotId: BOT_APP_ID,
      va_LastPhrase: 'yes please',
    });
    const [attachment] = event['attachments'] as Record<string, unknown>[];
    expect(attachment).toMatchObject({ contentType: 'application/json', name: 'Transcript' });
    const transcript = (attachment?.['content'] as { activities: Record<string, unknown>[] }).activities;
    expect(transcript.map((a) => [(a['from'] as { role: string }).role, a['text']])).toEqual([
      ['bot', 'Hello, this is the Contoso assistant. Am I speaking with Ana?'],
      ['user', 'yes, speaking'],
      ['bot', expect.stringContaining("I'm calling because")],
      ['user', 'yes please'],
      ['bot', "Thank you. I'm connecting you with a representative now. Please hold."],
    ]);

    expect(world.capacity.asked).toEqual([
      { queue: 'renewals-voice', skills: ['renewals', 'english'] },
      { queue: 'renewals-overflow', skills: ['renewals', 'english'] },
    ]);
    expect(world.outcomes.events).toEqual([
      {
        engagementId: 'renewals',
        deliveryId: 'd-1001',
        attempt: 1,
        result: 'LiveAnswer',
        disposition: 'interested',
        escalated: true,
        at: '2026-03-07T23:00:20.000Z',
        handleSeconds: 20,
      },
    ]);
  });

  it('a Bot Framework channel token (the voice channel) is accepted without an allow-list entry', async () => {
    const world = new AgentLegWorld({ settings: production });
    const response = await world.post(startConversation(anaContextValue), { token: channelToken(key) });
    expect(response.status).toBe(200);
    expect(response.activities[0]?.['text']).toBe('Hello, this is the Contoso assistant. Am I speaking with Ana?');
  });

  it('an answering machine over HTTP: the voicemail message is spoken, then endOfConversation; AnsweringMachine recorded', async () => {
    const world = new AgentLegWorld({ settings: production });
    const token = entraToken(key);
    await world.post(startConversation(anaContextValue), { token });
    const response = await world.post({ type: 'event', name: 'answeringMachineDetected' }, { token });
    expect(response.activities.map((a) => a['type'])).toEqual(['message', 'endOfConversation']);
    expect(response.activities[0]).toMatchObject({ inputHint: 'ignoringInput', text: expect.stringContaining('Contoso Insurance') });
    expect(response.activities[1]).toMatchObject({ code: 'completedSuccessfully' });
    expect(world.outcomes.events).toEqual([expect.objectContaining({ result: 'AnsweringMachine', disposition: 'voicemail' })]);
  });
});

describe('POST /api/messages refuses bad tokens and changes nothing', () => {
  const refusals: [string, (world: AgentLegWorld) => string | undefined, number][] = [
    ['a forged token (signed by another key under the same key id)', () => entraToken(forger), 401],
    ['a token for another audience', () => entraToken(key, { audience: 'api://someone-else' }), 401],
    ['an expired token', () => entraToken(key, { expiresInSeconds: -600 }), 401],
    ['a token issued by another tenant', () => entraToken(key, { tenant: OTHER_TENANT_ID }), 401],
    ['no token at all', () => undefined, 401],
    ['a valid token from an app that is not an allowed caller', () => entraToken(key, { callerAppId: STRANGER_APP_ID }), 403],
  ];

  it.each(refusals)('%s -> refused, nothing recorded, no reply, no state', async (_case, tokenFor, status) => {
    const world = new AgentLegWorld({ settings: production });
    const response = await world.post(startConversation(anaContextValue), { token: tokenFor(world) });
    expect(response.status).toBe(status);
    expect(response.activities).toEqual([]);
    expect(world.outcomes.events).toEqual([]);
    expect(await world.storedState()).toBeUndefined();
  });

  it('the refusal says why in the body (without echoing the token)', async () => {
    const world = new AgentLegWorld({ settings: production });
    const token = entraToken(key, { callerAppId: STRANGER_APP_ID });
    const response = await world.post(startConversation(anaContextValue), { token });
    expect(response.body).toEqual({
      error: 'CallerNotAllowed',
      message: `calling app ${STRANGER_APP_ID} is not an allowed caller of the agent leg`,
    });
    expect(JSON.stringify(response.body)).not.toContain(token);
    expect(world.logs.join('\n')).not.toContain(token);
  });
});

describe('POST /api/messages: anonymous local mode (no app id), like the Bot Framework Emulator', () => {
  it('a request without a token is served; one with a token is refused (it cannot be for an anonymous bot)', async () => {
    const world = new AgentLegWorld();
    const served = await world.post(startConversation(anaContextValue));
    expect(served.status).toBe(200);
    expect(served.activities[0]?.['text']).toContain('Am I speaking with Ana?');

    const other = new AgentLegWorld();
    const refused = await other.post(startConversation(anaContextValue), { token: entraToken(key) });
    expect(refused.status).toBe(401);
    expect(other.outcomes.events).toEqual([]);
  });

  it("without expectReplies the replies are POSTed to the activity's serviceUrl", async () => {
    const world = new AgentLegWorld();
    const posted: unknown[] = [];
    const channel = nock('https://voice.channel.example')
      .post(/^\/v3\/conversations\/conv-9\/activities\/activity-.+$/, (body) => posted.push(body) > 0)
      .reply(200, { id: 'reply-1' });
    const response = await world.post(
      { ...startConversation(anaContextValue), deliveryMode: 'normal', serviceUrl: 'https://voice.channel.example/' },
      { conversationId: 'conv-9' },
    );
    expect(response.status).toBe(200);
    expect(response.activities).toEqual([]);
    expect(channel.isDone()).toBe(true);
    expect(posted).toEqual([
      expect.objectContaining({
        type: 'message',
        text: 'Hello, this is the Contoso virtual assistant. Am I speaking with Ana?',
        inputHint: 'expectingInput',
        conversation: { id: 'conv-9' },
      }),
    ]);
  });
});

describe('POST /api/messages on the voice channel (channel token, replies to the serviceUrl)', () => {
  it('the bot gets an Entra token for the Bot Framework audience and posts its reply with it', async () => {
    const world = new AgentLegWorld({ settings: production });
    const outboundToken = entraToken(key, { audience: 'https://api.botframework.com', callerAppId: BOT_APP_ID });
    const tokenRequests: string[] = [];
    const entra = nock('https://login.microsoftonline.com')
      .post(
        `/${TENANT_ID}/oauth2/v2.0/token`,
        (body: Record<string, string>) => tokenRequests.push(`${body['grant_type']} ${body['client_id']} ${body['scope']}`) > 0,
      )
      .query(true)
      .reply(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: outboundToken });
    const posted: unknown[] = [];
    const channel = nock('https://smba.trafficmanager.net')
      .matchHeader('authorization', `Bearer ${outboundToken}`)
      .post(/^\/amer\/v3\/conversations\/conv-1\/activities\/activity-.+$/, (body) => posted.push(body) > 0)
      .reply(200, { id: 'reply-1' });

    const response = await world.post(
      { ...startConversation(anaContextValue), deliveryMode: 'normal', serviceUrl: SERVICE_URL },
      { token: channelToken(key, { serviceUrl: SERVICE_URL }) },
    );

    expect(response.status).toBe(200);
    expect(entra.isDone()).toBe(true);
    expect(channel.isDone()).toBe(true);
    expect(tokenRequests).toEqual([`client_credentials ${BOT_APP_ID} https://api.botframework.com/.default`]);
    expect(posted).toEqual([expect.objectContaining({ type: 'message', text: expect.stringContaining('Am I speaking with Ana?') })]);
  });

  it('a skill caller naming a serviceUrl outside the allowed hosts is refused (403) before the turn: no reply sent, nothing stored', async () => {
    const world = new AgentLegWorld({ settings: production });
    const response = await world.post(
      { ...startConversation(anaContextValue), deliveryMode: 'normal', serviceUrl: 'https://attacker.example/' },
      { token: entraToken(key) },
    );
    expect(response.status).toBe(403);
    expect(world.outcomes.events).toEqual([]);
    expect(await world.storedState()).toBeUndefined();
  });

  it('a channel token whose serviceurl claim names another host than the activity is refused (403: the host is not allowed), nothing recorded', async () => {
    const world = new AgentLegWorld({ settings: production });
    const response = await world.post(
      { ...startConversation(anaContextValue), deliveryMode: 'normal', serviceUrl: 'https://attacker.example/' },
      { token: channelToken(key, { serviceUrl: SERVICE_URL }) },
    );
    expect(response.status).toBe(403);
    expect(world.outcomes.events).toEqual([]);
    expect(await world.storedState()).toBeUndefined();
  });
});

describe('POST /api/messages: context, validation and failures', () => {
  it('a first message without call context: an agentLeg.error event and endOfConversation, nothing recorded', async () => {
    const world = new AgentLegWorld({ settings: production });
    const response = await world.post(says('hello?'), { token: entraToken(key) });
    expect(response.activities).toEqual([
      expect.objectContaining({ type: 'event', name: 'agentLeg.error', value: expect.objectContaining({ code: 'MissingCallContext' }) }),
      expect.objectContaining({ type: 'endOfConversation', code: 'unknown' }),
    ]);
    expect(world.outcomes.events).toEqual([]);
  });

  it('an invalid context for a known delivery: BotFailed for it, the bad field named in the error event', async () => {
    const world = new AgentLegWorld({ settings: production });
    const response = await world.post(startConversation({ ...anaContextValue, timeZone: 'Eastern' }), { token: entraToken(key) });
    expect(response.activities[0]).toMatchObject({
      name: 'agentLeg.error',
      value: { code: 'InvalidCallContext', issues: [{ path: 'value.timeZone', message: 'expected an IANA time zone such as "Europe/Paris"' }] },
    });
    expect(world.outcomes.events).toEqual([expect.objectContaining({ deliveryId: 'd-1001', result: 'BotFailed' })]);
  });

  it('a body that is not an activity is a 400 naming the fields, and changes nothing', async () => {
    const world = new AgentLegWorld({ settings: production });
    const token = entraToken(key);
    const notJson = await world.post({}, { token, rawBody: '{"type":' });
    expect(notJson.status).toBe(400);
    const noConversation = await world.post(
      {},
      { token, rawBody: JSON.stringify({ type: 'message', channelId: 'msteams', from: { id: 'a' }, recipient: { id: 'b' } }) },
    );
    expect(noConversation.status).toBe(400);
    expect(noConversation.body).toMatchObject({ error: 'InvalidRequest', issues: [{ path: 'conversation' }] });
    expect(world.outcomes.events).toEqual([]);
  });

  it('the outcome store failing mid-call: BotFailed recorded instead, the customer hears an apology, and the log has ids but no speech', async () => {
    const inner = new InMemoryOutcomeRecorder();
    const flaky: OutcomeRecorder = {
      record: async (event: CallEvent): Promise<RecordOutcomeResult> => {
        if (event.result === 'LiveAnswer') throw new Error('outcome table unavailable');
        return inner.record(event);
      },
    };
    const world = new AgentLegWorld({ settings: production, outcomes: flaky });
    const token = entraToken(key);
    await world.post(startConversation(anaContextValue), { token });
    const response = await world.post(says('No, this is her husband Bob, call 555 0100'), { token });
    expect(response.activities.map((a) => a['type'])).toEqual(['message', 'endOfConversation']);
    expect(response.activities[0]?.['text']).toBe('Sorry, something went wrong on our side. We will call you again later. Goodbye.');
    expect(inner.events).toEqual([expect.objectContaining({ deliveryId: 'd-1001', result: 'BotFailed' })]);
    const logs = world.logs.join('\n');
    expect(logs).toContain('d-1001');
    expect(logs).not.toContain('555 0100');
    expect(logs).not.toContain('Bob');
  });

  it('state is kept per conversation across turns; a redelivered answer after the end records nothing new', async () => {
    const world = new AgentLegWorld({ settings: production });
    const token = entraToken(key);
    await world.post(startConversation(anaContextValue), { token, conversationId: 'conv-a' });
    await world.post(startConversation({ ...anaContextValue, deliveryId: 'd-2002', firstName: 'Raj' }), { token, conversationId: 'conv-b' });
    const a = await world.post(says('no'), { token, conversationId: 'conv-a' });
    const b = await world.post(says('yes'), { token, conversationId: 'conv-b' });
    expect(a.activities[0]?.['text']).toBe('Sorry for the trouble. Goodbye.');
    expect(b.activities[0]?.['text']).toContain("I'm calling because");
    const again = await world.post(says('no'), { token, conversationId: 'conv-a' });
    expect(again.activities).toEqual([]);
    expect(world.outcomes.events).toEqual([expect.objectContaining({ deliveryId: 'd-1001', disposition: 'not-right-party' })]);
    expect(await world.storedState('conv-b')).toMatchObject({ step: 'disposition', context: { deliveryId: 'd-2002' } });
  });

  it('a conversation that outlives agentLeg.timeoutSeconds ends as BotFailed at its next turn', async () => {
    const world = new AgentLegWorld({ settings: production });
    const token = entraToken(key);
    await world.post(startConversation({ ...anaContextValue, engagementId: 'renewals-no-voicemail' }), { token });
    world.now = new Date(world.now.getTime() + 61_000);
    const response = await world.post(says('yes'), { token });
    expect(response.activities.at(-1)).toMatchObject({ type: 'endOfConversation', code: 'agentTimedOut' });
    expect(world.outcomes.events).toEqual([expect.objectContaining({ result: 'BotFailed', handleSeconds: 61 })]);
  });

  it("bridge: Copilot Studio's handoff.initiate (context and va_* in value) becomes our hand-off with its fields passed on", async () => {
    const world = new AgentLegWorld({ settings: production });
    const response = await world.post(
      {
        type: 'event',
        name: 'handoff.initiate',
        value: {
          ...anaContextValue,
          va_Scope: 'bot',
          va_LastTopic: 'Deductible',
          va_Topics: ['Greeting', 'Deductible'],
          va_LastPhrases: 'change my deductible',
          va_ConversationId: 'pva-77',
          va_AgentMessage: 'Wants a lower deductible.',
          va_BotId: 'pva-bot-id',
          va_BotName: 'Contoso Copilot',
          va_Language: 'en-us',
        },
      },
      { token: entraToken(key) },
    );
    // No greeting: the customer is mid-conversation with Copilot Studio.
    expect(response.activities.map((a) => a['name'] ?? a['text'])).toEqual([
      "Thank you. I'm connecting you with a representative now. Please hold.",
      'handoff.initiate',
    ]);
    const handoff = response.activities[1];
    expect(handoff?.['value']).toMatchObject({
      queue: 'renewals-voice',
      va_LastTopic: 'Deductible',
      va_LastPhrase: 'change my deductible',
      va_ConversationId: 'pva-77',
      va_BotName: 'Contoso Copilot',
      va_AgentMessage: expect.stringMatching(/^Wants a lower deductible\. Proactive call/),
    });
    expect(world.outcomes.events).toEqual([expect.objectContaining({ disposition: 'interested', escalated: true })]);
  });
});

/**
 * Agent-leg turn latency, in process, through the `POST /api/messages` handler with expectReplies
 * (the SDK, the HTTP shim, state in MemoryStorage, the flow, in-memory ports). Baselines measured in
 * the same run: the pure state-machine step alone, and an echo agent behind the same adapter and shim.
 * A variant validates a signed Entra token on every turn (keys served through nock, fetched once).
 * Goal: p99 < 20 ms per turn.
 */
import { generateKeyPairSync } from 'node:crypto';
import azureFunctions, { type HttpHandler, type HttpResponseInit } from '@azure/functions';
import { AgentApplication, CloudAdapter, MemoryStorage, TurnState } from '@microsoft/agents-hosting';
import jwt from 'jsonwebtoken';
import nock from 'nock';
import type { BenchCase } from '../run.js';
import { INITIAL_AGENT_LEG_STATE, stepAgentLeg, type AgentLegState } from '../../src/agentLeg/agentLegFlow.js';
import { toAuthConfiguration } from '../../src/agentLeg/agentLegAuth.js';
import { parseAgentLegSettings, type AgentLegSettingsInput } from '../../src/agentLeg/agentLegSettings.js';
import { callContextSchema } from '../../src/agentLeg/callContext.js';
import { InMemoryOutcomeRecorder, StaticQueueCapacity } from '../../src/agentLeg/inMemoryPorts.js';
import { createMessagesHandler } from '../../src/agentLeg/messagesHandler.js';
import { WebResponseRecorder } from '../../src/agentLeg/webResponseRecorder.js';
import type { EngagementConfig } from '../../src/engagement/engagementSchema.js';
import { loadEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { ConnectionSettings, CopilotStudioClient } from '@microsoft/agents-copilotstudio-client';
import { createRequire } from 'node:module';
import { loadAgentScripts } from '../../dev/copilotStudio/agentScript.js';
import { startCopilotStudioStandIn, type CopilotStudioStandInHandle } from '../../dev/copilotStudio/standIn.js';
import { CopilotStudioEngine } from '../../src/agentLeg/copilotStudioEngine.js';
import { createCopilotStudioTokenSource } from '../../src/agentLeg/copilotStudioTokens.js';

const { HttpRequest, InvocationContext } = azureFunctions;

const CONVERSATIONS = 400;
const WARMUP_CONVERSATIONS = 50;
const PURE_STEPS = 50_000;
const ENGAGEMENT = 'policy-renewal-reminders';
const APP_ID = '5b2f6a47-1c1e-4e5a-9a41-0b7f1d2c3a01';
const TENANT_ID = '9d3c0b8e-2a6f-4c3e-8b1d-7e5f4a3b2c10';
const CALLER_APP_ID = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';

interface Stats {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN, count: sorted.length };
}

function show(label: string, s: Stats): void {
  console.log(
    `${label.padEnd(46)} p50 ${s.p50.toFixed(3).padStart(8)} ms   p99 ${s.p99.toFixed(3).padStart(8)} ms   max ${s.max.toFixed(2).padStart(7)} ms   (${s.count} turns)`,
  );
}

const quiet = () => new InvocationContext({ logHandler: () => undefined });

function activity(conversationId: string, fields: Record<string, unknown>): string {
  return JSON.stringify({
    channelId: 'bench',
    deliveryMode: 'expectReplies',
    from: { id: 'customer' },
    recipient: { id: 'agent-leg' },
    conversation: { id: conversationId },
    ...fields,
  });
}

async function post(handler: HttpHandler, body: string, token?: string): Promise<HttpResponseInit> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = (await handler(
    new HttpRequest({ method: 'POST', url: 'http://localhost/api/messages', body: { string: body }, headers }),
    quiet(),
  )) as HttpResponseInit;
  if (response.status !== 200) throw new Error(`turn failed with ${response.status}: ${JSON.stringify(response.jsonBody)}`);
  return response;
}

/** A whole call, three turns: context + greeting, right-party yes, interested -> hand-off. */
async function converse(handler: HttpHandler, id: string, samples: number[] | undefined, token?: string): Promise<void> {
  const turns = [
    activity(id, {
      type: 'event',
      name: 'startConversation',
      value: { engagementId: ENGAGEMENT, deliveryId: `d-${id}`, attempt: 1, firstName: 'Ana', timeZone: 'America/New_York' },
    }),
    activity(id, { type: 'message', text: 'yes, speaking' }),
    activity(id, { type: 'message', text: 'yes please' }),
  ];
  for (const turn of turns) {
    const started = performance.now();
    await post(handler, turn, token);
    samples?.push(performance.now() - started);
  }
}

interface Variant {
  readonly label: string;
  readonly handler: HttpHandler;
  readonly token?: () => string;
  readonly samples: number[];
}

/**
 * Runs whole conversations for every variant, interleaved (one conversation each, in turn), so that
 * load from elsewhere on the machine hits all variants alike and the ratios stay meaningful.
 */
async function measureInterleaved(variants: readonly Variant[]): Promise<void> {
  for (let i = 0; i < WARMUP_CONVERSATIONS + CONVERSATIONS; i++) {
    const warm = i < WARMUP_CONVERSATIONS;
    for (const v of variants) await converse(v.handler, `${v.label}-${i}`, warm ? undefined : v.samples, v.token?.());
  }
}

function agentLegHandler(
  catalog: Awaited<ReturnType<typeof loadEngagementFile>>,
  settings: AgentLegSettingsInput,
): { handler: HttpHandler; outcomes: InMemoryOutcomeRecorder } {
  const outcomes = new InMemoryOutcomeRecorder();
  const handler = createMessagesHandler({
    settings: parseAgentLegSettings(settings),
    ports: {
      engagements: { getEngagement: (id) => catalog.engagements.get(id) },
      capacity: new StaticQueueCapacity({ 'renewals-voice': true }),
      outcomes,
      storage: new MemoryStorage(),
    },
    log: { warn: () => undefined, error: (message) => console.error(message) },
  });
  return { handler, outcomes };
}

/** The same adapter and shim around an agent that only echoes: what the SDK path costs by itself. */
function echoHandler(): HttpHandler {
  const adapter = new CloudAdapter(toAuthConfiguration(parseAgentLegSettings({})));
  const app = new AgentApplication<TurnState>({ adapter, storage: new MemoryStorage(), removeRecipientMention: false });
  app.addRoute(
    async () => true,
    async (context) => {
      await context.sendActivity(`echo: ${context.activity.text ?? context.activity.name ?? ''}`);
    },
  );
  return async (request) => {
    const response = new WebResponseRecorder();
    const body = JSON.parse(await request.text()) as Record<string, unknown>;
    await adapter.process({ method: 'POST', headers: {}, body }, response, (context) => app.run(context));
    return response.toHttpResponse();
  };
}

function measurePureStep(engagement: EngagementConfig): Stats {
  const context = callContextSchema.parse({ engagementId: ENGAGEMENT, deliveryId: 'd-pure', attempt: 1, firstName: 'Ana', timeZone: 'America/New_York' });
  const now = new Date('2026-03-07T23:00:00Z');
  const samples: number[] = [];
  for (let i = 0; i < PURE_STEPS; i++) {
    const started = performance.now();
    let state: AgentLegState = stepAgentLeg(
      INITIAL_AGENT_LEG_STATE,
      { kind: 'context', context, conversationId: 'c', agentName: 'the assistant' },
      now,
      engagement,
    ).state;
    state = stepAgentLeg(state, { kind: 'utterance', text: 'yes, speaking' }, now, engagement).state;
    stepAgentLeg(state, { kind: 'utterance', text: 'yes please' }, now, engagement);
    samples.push((performance.now() - started) / 3);
  }
  return stats(samples);
}

async function run(): Promise<void> {
  const catalog = await loadEngagementFile('config/engagements.sample.json');
  const engagement = catalog.engagements.get(ENGAGEMENT);
  if (engagement === undefined) throw new Error(`engagement ${ENGAGEMENT} is missing from the sample file`);

  const pure = measurePureStep(engagement);

  // Signed tokens: the SDK fetches the tenant's JWKS once (served here), then verifies RS256 per turn.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256' };
  nock.disableNetConnect();
  nock('https://login.microsoftonline.com')
    .persist()
    .get(`/${TENANT_ID}/discovery/v2.0/keys`)
    .reply(200, { keys: [jwk] });
  const token = () => {
    const now = Math.floor(Date.now() / 1000);
    return jwt.sign(
      {
        aud: APP_ID,
        iss: `https://login.microsoftonline.com/${TENANT_ID}/v2.0`,
        tid: TENANT_ID,
        azp: CALLER_APP_ID,
        ver: '2.0',
        nbf: now - 60,
        exp: now + 3600,
      },
      privateKey,
      { algorithm: 'RS256', keyid: 'bench' },
    );
  };

  const anonymous = agentLegHandler(catalog, {});
  const signed = agentLegHandler(catalog, {
    appId: APP_ID,
    tenantId: TENANT_ID,
    credential: { kind: 'client-secret', secret: 'bench-only' },
    allowedCallers: [CALLER_APP_ID],
  });
  const echoVariant: Variant = { label: 'echo', handler: echoHandler(), samples: [] };
  const legVariant: Variant = { label: 'leg', handler: anonymous.handler, samples: [] };
  const jwtVariant: Variant = { label: 'jwt', handler: signed.handler, token, samples: [] };
  await measureInterleaved([echoVariant, legVariant, jwtVariant]);
  nock.cleanAll();
  nock.enableNetConnect();
  const echo = stats(echoVariant.samples);
  const leg = stats(legVariant.samples);
  const withJwt = stats(jwtVariant.samples);

  const expected = WARMUP_CONVERSATIONS + CONVERSATIONS;
  if (anonymous.outcomes.events.length !== expected || signed.outcomes.events.length !== expected) {
    throw new Error(`expected ${expected} hand-off outcomes per variant, got ${anonymous.outcomes.events.length} and ${signed.outcomes.events.length}`);
  }

  show('baseline: pure flow step (no I/O)', pure);
  show('baseline: echo agent, same adapter + shim', echo);
  show('agent leg via handler, anonymous', leg);
  show('agent leg via handler, JWT verified per turn', withJwt);
  console.log(
    `ratios (p50 / p99): agent leg vs echo ${(leg.p50 / echo.p50).toFixed(2)} / ${(leg.p99 / echo.p99).toFixed(2)}; ` +
      `JWT vs anonymous ${(withJwt.p50 / leg.p50).toFixed(2)} / ${(withJwt.p99 / leg.p99).toFixed(2)}; ` +
      `agent leg vs pure step ${(leg.p50 / pure.p50).toFixed(0)}x / ${(leg.p99 / pure.p99).toFixed(0)}x`,
  );
  const goal = 20;
  console.log(
    `goal p99 < ${goal} ms per turn: ${withJwt.p99 < goal && leg.p99 < goal ? 'met' : 'NOT met'} (anonymous ${leg.p99.toFixed(2)} ms, JWT ${withJwt.p99.toFixed(2)} ms)`,
  );
  console.log('\nCopilot Studio bridge (stand-in on loopback, the real client):');
  await runBridge();
}

const BRIDGE_CONVERSATIONS = 150;
const BRIDGE_WARMUP = 20;
const COPILOT_ENGAGEMENT = 'policy-renewal-copilot-studio';
const COPILOT_AGENT = 'contoso_outboundRenewals';

type ClientActivity = Parameters<CopilotStudioClient['executeStreaming']>[0];
const requireFromClient = createRequire(createRequire(import.meta.url).resolve('@microsoft/agents-copilotstudio-client'));
const { Activity: ClientActivityType } = requireFromClient('@microsoft/agents-activity') as { Activity: { fromObject(source: object): ClientActivity } };

/**
 * The Copilot Studio bridge: per relayed turn, the agent leg (handler, SDK, flow, engine, client) vs the
 * same client called directly with the same turns against the same stand-in. The difference is the
 * bridge's own overhead. Variants interleaved, one conversation each in turn.
 */
async function runBridge(): Promise<void> {
  const standIn: CopilotStudioStandInHandle = await startCopilotStudioStandIn({ agents: loadAgentScripts('config/copilot-studio.sample.json') });
  try {
    const catalog = await loadEngagementFile('config/engagements.copilot-studio.sample.json');
    const settings = parseAgentLegSettings({ copilotStudio: { auth: 'none', directConnectUrl: standIn.url } });
    const outcomes = new InMemoryOutcomeRecorder();
    const handler = createMessagesHandler({
      settings,
      ports: {
        engagements: { getEngagement: (id) => catalog.engagements.get(id) },
        capacity: new StaticQueueCapacity({ 'renewals-voice': true }),
        outcomes,
        storage: new MemoryStorage(),
        engine: new CopilotStudioEngine({ settings: settings.copilotStudio, tokens: createCopilotStudioTokenSource(settings.copilotStudio) }),
      },
      log: { warn: (message, p) => console.warn(message, p), error: (message) => console.error(message) },
    });
    const bridged: number[] = [];
    const direct: number[] = [];
    const client = new CopilotStudioClient(new ConnectionSettings({ directConnectUrl: standIn.agentUrl(COPILOT_AGENT) }), '');
    const variables = {
      engagementId: COPILOT_ENGAGEMENT,
      deliveryId: 'd',
      attempt: 1,
      firstName: 'Ana',
      purpose: 'your policy renews',
      timeZone: 'America/New_York',
      locale: 'en-US',
      policyNumber: 'HP-4471',
    };
    const drain = async (stream: AsyncGenerator<unknown>) => {
      let count = 0;
      for await (const _ of stream) count += 1;
      return count;
    };
    for (let i = 0; i < BRIDGE_WARMUP + BRIDGE_CONVERSATIONS; i++) {
      const warm = i < BRIDGE_WARMUP;
      // Through the bridge: start (greeting), right party, ask for a person (hand-off).
      const id = `bridge-${i}`;
      const turns = [
        activity(id, {
          type: 'event',
          name: 'startConversation',
          value: {
            engagementId: COPILOT_ENGAGEMENT,
            deliveryId: `d-${id}`,
            attempt: 1,
            firstName: 'Ana',
            timeZone: 'America/New_York',
            attributes: { policyNumber: 'HP-4471' },
          },
        }),
        activity(id, { type: 'message', text: 'yes, speaking' }),
        activity(id, { type: 'message', text: 'a representative please' }),
      ];
      for (const turn of turns) {
        const started = performance.now();
        await post(handler, turn);
        if (!warm) bridged.push(performance.now() - started);
      }
      // Directly: the same three turns with the client alone (start + variables event count as one turn, as in the bridge).
      let started = performance.now();
      await drain(client.startConversationStreaming({ emitStartConversationEvent: false, locale: 'en-US' }));
      const conversationId = clientConversationId(client) ?? '';
      await drain(
        client.executeStreaming(
          ClientActivityType.fromObject({ type: 'event', name: 'startConversation', value: variables, conversation: { id: conversationId } }),
          conversationId,
        ),
      );
      if (!warm) direct.push(performance.now() - started);
      for (const text of ['yes, speaking', 'a representative please']) {
        started = performance.now();
        await drain(client.executeStreaming(ClientActivityType.fromObject({ type: 'message', text, conversation: { id: conversationId } }), conversationId));
        if (!warm) direct.push(performance.now() - started);
      }
    }
    const handoffs = outcomes.events.filter((e) => e.escalated === true).length;
    if (handoffs !== BRIDGE_WARMUP + BRIDGE_CONVERSATIONS) throw new Error(`expected a hand-off per bridged conversation, got ${handoffs}`);
    const b = stats(bridged);
    const d = stats(direct);
    show('baseline: client direct to the stand-in', d);
    show('agent leg bridged to Copilot Studio (stand-in)', b);
    console.log(
      `bridge overhead per turn: p50 +${(b.p50 - d.p50).toFixed(3)} ms (${(b.p50 / d.p50).toFixed(2)}x), p99 +${(b.p99 - d.p99).toFixed(3)} ms (${(b.p99 / d.p99).toFixed(2)}x)`,
    );
  } finally {
    await standIn.stop();
  }
}

/** The conversation id the client got from `x-ms-conversationid` (kept privately by the client; read for the bench only). */
function clientConversationId(client: CopilotStudioClient): string | undefined {
  const id = (client as unknown as { conversationId?: string }).conversationId;
  return id === '' ? undefined : id;
}

const bot: BenchCase = {
  name: 'bot',
  description: 'agent-leg turn latency through POST /api/messages (expectReplies, in process)',
  run,
};
export default bot;

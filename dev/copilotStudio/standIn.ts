/**
 * A local stand-in for Copilot Studio's conversation API, as `@microsoft/agents-copilotstudio-client`
 * speaks it (direct-connect URL form):
 *   POST {base}/copilotstudio/dataverse-backed/authenticated/bots/{schemaName}/conversations?api-version=...
 *        body { emitStartConversationEvent, locale } -> a new conversation, id in `x-ms-conversationid`
 *   POST .../conversations/{id}?api-version=...   body { activity, conversationId } -> the agent's turn
 * Both answer with server-sent events: `event: activity` (Activity JSON in data) for each activity, then
 * `event: end`. Agents are scripted (agentScript.ts). Never part of the product.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fill, matchIntent, type AgentScript, type AgentScripts, type Topic } from './agentScript.js';

const PATH = /^(?<base>.*\/bots\/(?<schema>[^/]+))\/conversations(?:\/(?<id>[^/]+))?\/?$/;
const INVOKE_PERMISSION = 'CopilotStudio.Copilots.Invoke';

/**
 * Which bearer tokens the stand-in takes: `none` (no check), `any-token` (a bearer must be present),
 * `delegated-only` (a user token with the invoke scope; app-only tokens are refused with 401, as
 * standard agents refuse them). Signatures are not checked: Entra is not here.
 */
export type StandInAuth = 'none' | 'any-token' | 'delegated-only';

export interface CopilotStudioStandInOptions {
  readonly agents: AgentScripts;
  readonly port?: number;
  readonly auth?: StandInAuth;
  readonly log?: (line: string) => void;
}

interface Conversation {
  readonly id: string;
  readonly schemaName: string;
  readonly agent: AgentScript;
  variables: Record<string, unknown>;
  topic: string | undefined;
  topics: string[];
  phrases: string[];
  ended: boolean;
}

/** What the stand-in saw; tests await these instead of sleeping. */
export interface StandInEvents {
  /** A turn arrived: its conversation, activity type and name (never its text). */
  received: [{ conversationId: string; type: string; name?: string }];
  /** A stalled topic is holding an answer open. */
  stalled: [{ conversationId: string }];
}

export interface CopilotStudioStandInHandle {
  /** Base URL: append the agent path, or give it to AGENT_LEG_COPILOT_STUDIO_DIRECT_CONNECT_URL. */
  readonly url: string;
  readonly port: number;
  readonly events: EventEmitter<StandInEvents>;
  /** The direct-connect URL of one agent. */
  agentUrl(schemaName: string): string;
  /** Variables a conversation holds (what the start event set). */
  variablesOf(conversationId: string): Readonly<Record<string, unknown>> | undefined;
  stop(): Promise<void>;
}

export async function startCopilotStudioStandIn(options: CopilotStudioStandInOptions): Promise<CopilotStudioStandInHandle> {
  const auth = options.auth ?? 'none';
  const log = options.log ?? (() => undefined);
  const conversations = new Map<string, Conversation>();
  const events = new EventEmitter<StandInEvents>();

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) json(response, 500, { error: { code: 'InternalError', message: 'stand-in failure' } });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = PATH.exec(url.pathname);
    if (request.method !== 'POST' || match?.groups === undefined) return json(response, 404, { error: { code: 'NotFound', message: 'no such route' } });
    const refusal = checkToken(request.headers.authorization, auth);
    if (refusal !== undefined) return json(response, 401, { error: { code: 'Unauthorized', message: refusal } });
    const schemaName = decodeURIComponent(match.groups['schema'] ?? '');
    const agent = options.agents.agents[schemaName];
    if (agent === undefined) return json(response, 404, { error: { code: 'BotNotFound', message: `no agent ${schemaName}` } });
    const body = await readJson(request);
    const id = match.groups['id'];

    if (id === undefined) {
      const conversation: Conversation = { id: randomUUID(), schemaName, agent, variables: {}, topic: undefined, topics: [], phrases: [], ended: false };
      conversations.set(conversation.id, conversation);
      const stream = openStream(response, conversation.id);
      if (body['emitStartConversationEvent'] !== false) await runTopic(conversation, agent.start, stream);
      return stream.end();
    }
    const conversation = conversations.get(decodeURIComponent(id));
    if (conversation === undefined || conversation.schemaName !== schemaName) {
      return json(response, 404, { error: { code: 'ConversationNotFound', message: 'no such conversation' } });
    }
    const activity = isRecord(body['activity']) ? body['activity'] : {};
    const type = typeof activity['type'] === 'string' ? activity['type'] : '';
    const name = typeof activity['name'] === 'string' ? activity['name'] : undefined;
    events.emit('received', { conversationId: conversation.id, type, ...(name === undefined ? {} : { name }) });
    const stream = openStream(response, conversation.id);
    if (conversation.ended) return stream.end();
    if (type === 'event' && name === 'startConversation') {
      if (isRecord(activity['value'])) conversation.variables = { ...conversation.variables, ...activity['value'] };
      await runTopic(conversation, agent.start, stream);
    } else if (type === 'message' && typeof activity['text'] === 'string') {
      conversation.phrases.push(activity['text']);
      const current = conversation.topic === undefined ? undefined : agent.topics[conversation.topic];
      const intent = matchIntent(agent, current, activity['text']);
      const next = intent === undefined ? undefined : (agent.anywhere[intent] ?? current?.then[intent]);
      if (next === undefined) stream.send(message(conversation, agent.fallback));
      else await runTopic(conversation, next, stream);
    } else if (type === 'endOfConversation') {
      conversation.ended = true;
    }
    stream.end();
  }

  async function runTopic(conversation: Conversation, name: string, stream: Stream): Promise<void> {
    const topic = conversation.agent.topics[name] as Topic;
    conversation.topic = name;
    conversation.topics.push(name);
    const vars = conversation.variables;
    for (const text of topic.say) {
      if (topic.stream) sendStreamed(conversation, fill(text, vars), stream);
      else stream.send(message(conversation, fill(text, vars)));
    }
    if (topic.stall) {
      events.emit('stalled', { conversationId: conversation.id });
      await stream.closed;
      return;
    }
    if (topic.transfer !== undefined) {
      const value = { ...context(conversation, name), ...fillAll(topic.transfer, vars) };
      stream.send({ ...base(conversation), type: 'event', name: 'handoff.initiate', value });
      conversation.ended = true;
    } else if (topic.end !== undefined) {
      const value = fillAll(topic.end, vars);
      const transfer = value['transferReason'] !== undefined ? context(conversation, name) : {};
      stream.send({ ...base(conversation), type: 'endOfConversation', code: 'completedSuccessfully', value: { ...transfer, ...value } });
      conversation.ended = true;
    }
  }

  function sendStreamed(conversation: Conversation, text: string, stream: Stream): void {
    const streamId = randomUUID();
    const words = text.split(/(?<= )/);
    const chunk = Math.max(1, Math.ceil(words.length / 3));
    let sequence = 0;
    for (let i = 0; i < words.length; i += chunk) {
      sequence += 1;
      const entities = [{ type: 'streaminfo', streamId, streamType: 'streaming', streamSequence: sequence }];
      stream.send({ ...base(conversation), type: 'typing', text: words.slice(i, i + chunk).join(''), entities });
    }
    stream.send({ ...message(conversation, text), entities: [{ type: 'streaminfo', streamId, streamType: 'final' }] });
  }

  function context(conversation: Conversation, topic: string): Record<string, unknown> {
    return {
      va_Scope: 'bot',
      va_LastTopic: topic,
      va_Topics: conversation.topics,
      va_LastPhrase: conversation.phrases.at(-1) ?? '',
      va_Phrases: conversation.phrases,
      va_ConversationId: conversation.id,
      va_BotId: conversation.schemaName,
      va_BotName: conversation.schemaName,
      va_Language: typeof conversation.variables['locale'] === 'string' ? conversation.variables['locale'] : 'en-US',
    };
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const url = `http://127.0.0.1:${port}`;
  log(`Copilot Studio stand-in on ${url}, agents: ${Object.keys(options.agents.agents).join(', ')}`);
  return {
    url,
    port,
    events,
    agentUrl: (schemaName) => `${url}/copilotstudio/dataverse-backed/authenticated/bots/${encodeURIComponent(schemaName)}`,
    variablesOf: (id) => conversations.get(id)?.variables,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Stream {
  send(activity: Record<string, unknown>): void;
  end(): void;
  /** Settles when the client went away. */
  readonly closed: Promise<void>;
}

function openStream(response: ServerResponse, conversationId: string): Stream {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-ms-conversationid': conversationId });
  const closed = new Promise<void>((resolve) => response.once('close', () => resolve()));
  return {
    send: (activity) => {
      response.write(`event: activity\ndata: ${JSON.stringify({ id: randomUUID(), timestamp: new Date().toISOString(), ...activity })}\n\n`);
    },
    end: () => {
      response.end('event: end\ndata: end\n\n');
    },
    closed,
  };
}

function base(conversation: Conversation): Record<string, unknown> {
  return {
    channelId: 'pva-studio',
    conversation: { id: conversation.id },
    from: { id: conversation.schemaName, name: conversation.schemaName, role: 'bot' },
    recipient: { id: 'customer', role: 'user' },
  };
}

function message(conversation: Conversation, text: string): Record<string, unknown> {
  return { ...base(conversation), type: 'message', text, speak: text, inputHint: 'expectingInput' };
}

function fillAll(fields: Readonly<Record<string, string>>, variables: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, fill(value, variables)]));
}

/** Refusal reason, or undefined when the token is acceptable. Claims are read, not verified. */
function checkToken(header: string | undefined, auth: StandInAuth): string | undefined {
  if (auth === 'none') return undefined;
  const token = /^Bearer (\S+)$/.exec(header ?? '')?.[1];
  if (token === undefined) return 'a bearer token is required';
  if (auth === 'any-token') return undefined;
  const claims = decodeClaims(token);
  if (claims === undefined) return 'the token is not a JWT';
  if (claims['idtyp'] === 'app' || typeof claims['scp'] !== 'string') return 'this agent does not accept application (app-only) tokens';
  if (!claims['scp'].split(' ').includes(INVOKE_PERMISSION)) return `the token lacks the ${INVOKE_PERMISSION} scope`;
  return undefined;
}

function decodeClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return isRecord(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  const parsed = JSON.parse(text) as unknown;
  return isRecord(parsed) ? parsed : {};
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import { createRequire } from 'node:module';
import { ConnectionSettings, CopilotStudioClient, ScopeHelper } from '@microsoft/agents-copilotstudio-client';
import type { CopilotStudioEngineConfig } from '../engagement/engagementSchema.js';
import { ensureError } from '../errors.js';
import type { AgentEngine, EngineFailure, ExternalEngineConfig, RelayRequest, RelayResult } from './agentEngine.js';
import type { CopilotStudioSettings } from './agentLegSettings.js';
import { CopilotStudioHttpScope, runInHttpScope } from './copilotStudioHttpScope.js';
import type { CopilotStudioTokenSource } from './copilotStudioTokens.js';
import { readCopilotStudioTurn } from './readCopilotStudioTurn.js';

/**
 * The client speaks `@microsoft/agents-activity` 1.5.2 (its own dependency), the app 1.8.1: the two
 * `Activity` classes are kept apart. The client's type is taken from its own signature, and its class
 * is loaded from where the client resolves it, never from the app's copy.
 */
type ClientActivity = Parameters<CopilotStudioClient['executeStreaming']>[0];
interface ClientActivityClass {
  fromObject(source: object): ClientActivity;
}
const requireFromClient = createRequire(createRequire(import.meta.url).resolve('@microsoft/agents-copilotstudio-client'));
const { Activity: ClientActivityType } = requireFromClient('@microsoft/agents-activity') as { Activity: ClientActivityClass };

/** The path of a published agent's conversations under a direct-connect base URL (the client's own URL shape). */
export const AGENT_PATH_PREFIX = '/copilotstudio/dataverse-backed/authenticated/bots/';
/** The event whose `value` carries the conversation variables: what Copilot Studio's Conversation Start answers. */
export const START_CONVERSATION_EVENT = 'startConversation';

/** Resolves after `ms`, or when `signal` aborts (the turn is over): injectable so tests need no clock. */
export type Deadline = (ms: number, signal: AbortSignal) => Promise<void>;

export interface CopilotStudioEngineOptions {
  readonly settings: CopilotStudioSettings | undefined;
  readonly tokens: CopilotStudioTokenSource;
  readonly deadline?: Deadline;
}

type CallResult =
  { readonly ok: true; readonly activities: unknown[]; readonly conversationId: string | undefined } | { readonly ok: false; readonly failure: EngineFailure };

/**
 * The Copilot Studio engine: relays the call's turns to an agent with Microsoft's
 * `@microsoft/agents-copilotstudio-client`, streaming (server-sent events), and reads what the agent
 * answered. One client per relay (a client holds one token, and tokens expire); the conversation id is
 * the agent's, kept in the agent leg's state between turns. Failures are results, never throws.
 */
export class CopilotStudioEngine implements AgentEngine {
  private readonly deadline: Deadline;

  constructor(private readonly options: CopilotStudioEngineOptions) {
    this.deadline = options.deadline ?? waitFor;
  }

  async relay(engine: ExternalEngineConfig, request: RelayRequest): Promise<RelayResult> {
    const stop = new AbortController();
    try {
      const opened = await this.client(engine);
      if (!opened.ok) return opened;
      const { client, target } = opened;
      const timeoutMs = engine.turnTimeoutSeconds * 1000;
      const deadline = this.deadline(timeoutMs, stop.signal).then(() => 'timeout' as const);
      const call = (open: () => AsyncGenerator<ClientActivity>) => this.call(open, deadline, target, engine.turnTimeoutSeconds);
      switch (request.kind) {
        case 'start': {
          // No start event yet: the variables must be in place before the agent's first topic speaks.
          const started = await call(() => client.startConversationStreaming({ emitStartConversationEvent: false, locale: request.locale }));
          if (!started.ok) return started;
          const conversationId = started.conversationId ?? conversationIdOf(started.activities);
          if (conversationId === undefined) return failure('EngineMalformedActivity', `${target} started a conversation without an id`);
          const event = toClientActivity({ type: 'event', name: START_CONVERSATION_EVENT, value: request.variables, locale: request.locale }, conversationId);
          const greeted = await call(() => client.executeStreaming(event, conversationId));
          if (!greeted.ok) return greeted;
          return readCopilotStudioTurn([...started.activities, ...greeted.activities], conversationId);
        }
        case 'utterance': {
          const message = toClientActivity({ type: 'message', text: request.text, locale: request.locale }, request.conversationId);
          const answered = await call(() => client.executeStreaming(message, request.conversationId));
          if (!answered.ok) return answered;
          return readCopilotStudioTurn(answered.activities, request.conversationId);
        }
        case 'close': {
          const ended = toClientActivity({ type: 'endOfConversation', code: 'completedSuccessfully' }, request.conversationId);
          const closed = await call(() => client.executeStreaming(ended, request.conversationId));
          return closed.ok ? { ok: true, turn: { conversationId: request.conversationId, says: [] } } : closed;
        }
      }
    } finally {
      stop.abort();
    }
  }

  /**
   * Opens a conversation without the start event and reports whether the agent took our token: what
   * start-up checks, so that an agent refusing the token kind fails the app's start, not the first call.
   */
  async probe(engine: CopilotStudioEngineConfig): Promise<EngineFailure | undefined> {
    const stop = new AbortController();
    try {
      const opened = await this.client(engine);
      if (!opened.ok) return opened.failure;
      const deadline = this.deadline(engine.turnTimeoutSeconds * 1000, stop.signal).then(() => 'timeout' as const);
      const started = await this.call(
        () => opened.client.startConversationStreaming({ emitStartConversationEvent: false }),
        deadline,
        opened.target,
        engine.turnTimeoutSeconds,
      );
      return started.ok ? undefined : started.failure;
    } finally {
      stop.abort();
    }
  }

  private async client(
    engine: ExternalEngineConfig,
  ): Promise<{ ok: true; client: CopilotStudioClient; target: string } | { ok: false; failure: EngineFailure }> {
    const target = `Copilot Studio agent ${engine.schemaName}`;
    let connection: ConnectionSettings;
    try {
      const resolved = this.connectionFor(engine);
      if (resolved === undefined) {
        return failure('EngineNotConfigured', `${target} has no environmentId or directConnectUrl, and AGENT_LEG_COPILOT_STUDIO_DIRECT_CONNECT_URL is not set`);
      }
      connection = resolved;
    } catch (thrown) {
      return failure('EngineNotConfigured', `${target}: ${ensureError(thrown).message}`);
    }
    let token: string;
    try {
      token = await this.options.tokens.token(ScopeHelper.getScopeFromSettings(connection));
    } catch (thrown) {
      // The identity library's message names the tenant and app, never the secret.
      return failure('EngineAuthRefused', `no ${this.options.tokens.kind} token for ${target}: ${firstLine(ensureError(thrown).message)}`);
    }
    return { ok: true, client: new CopilotStudioClient(connection, token), target };
  }

  private connectionFor(engine: ExternalEngineConfig): ConnectionSettings | undefined {
    if (engine.directConnectUrl !== undefined) return new ConnectionSettings({ directConnectUrl: engine.directConnectUrl, cloud: engine.cloud });
    if (engine.environmentId !== undefined) {
      return new ConnectionSettings({
        environmentId: engine.environmentId,
        schemaName: engine.schemaName,
        cloud: engine.cloud,
        copilotAgentType: engine.agentType,
      });
    }
    const base = this.options.settings?.directConnectUrl;
    if (base === undefined) return undefined;
    return new ConnectionSettings({ directConnectUrl: toAgentUrl(base, engine.schemaName), cloud: engine.cloud });
  }

  /** One streamed HTTP call of the client, bounded by the turn's deadline; failures seen underneath it end it at once. */
  private async call(open: () => AsyncGenerator<ClientActivity>, deadline: Promise<'timeout'>, target: string, timeoutSeconds: number): Promise<CallResult> {
    const scope = new CopilotStudioHttpScope(target);
    const activities: unknown[] = [];
    const iteration = runInHttpScope(scope, async () => {
      for await (const activity of open()) activities.push(JSON.parse(JSON.stringify(activity)) as unknown);
      return 'done' as const;
    }).catch((thrown: unknown) => ({ thrown }));
    const settled = await Promise.race([iteration, scope.whenFailed(), deadline]);
    if (settled === 'done') return { ok: true, activities, conversationId: scope.conversationId };
    if (settled === 'timeout') scope.fail({ code: 'EngineTimedOut', message: `${target} gave no complete answer within ${timeoutSeconds} s` });
    else if (typeof settled === 'object' && 'thrown' in settled) {
      scope.fail({ code: 'EngineUnreachable', message: `${target}: ${firstLine(ensureError(settled.thrown).message)}` });
    }
    return { ok: false, failure: scope.failure ?? { code: 'EngineUnreachable', message: `${target} failed` } };
  }
}

/** A base URL plus the agent's path, as the client builds it for a published agent. */
export function toAgentUrl(base: string, schemaName: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${AGENT_PATH_PREFIX}${encodeURIComponent(schemaName)}`;
  return url.href;
}

function toClientActivity(fields: Record<string, unknown>, conversationId: string): ClientActivity {
  return ClientActivityType.fromObject({ ...fields, conversation: { id: conversationId }, from: { id: 'customer', role: 'user' } });
}

function conversationIdOf(activities: readonly unknown[]): string | undefined {
  for (const activity of activities) {
    const id = (activity as { conversation?: { id?: unknown } } | null)?.conversation?.id;
    if (typeof id === 'string' && id !== '') return id;
  }
  return undefined;
}

function failure(code: EngineFailure['code'], message: string): { ok: false; failure: EngineFailure } {
  return { ok: false, failure: { code, message } };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).slice(0, 300);
}

function waitFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });
}

import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { MemoryStorage, type Storage } from '@microsoft/agents-hosting';
import type { AgentLegLog } from '../../../src/agentLeg/agentLegBot.js';
import { parseAgentLegSettings, type AgentLegSettingsInput } from '../../../src/agentLeg/agentLegSettings.js';
import { InMemoryOutcomeRecorder, StaticQueueCapacity } from '../../../src/agentLeg/inMemoryPorts.js';
import { createMessagesHandler } from '../../../src/agentLeg/messagesHandler.js';
import type { OutcomeRecorder } from '../../../src/agentLeg/ports.js';
import type { AgentEngine } from '../../../src/agentLeg/agentEngine.js';
import type { EngagementCatalog } from '../../../src/engagement/loadEngagementFile.js';
import { catalog } from './agentLegFixtures.js';

export const SERVICE_URL = 'https://smba.trafficmanager.net/amer/';

export interface WorldOptions {
  readonly settings?: AgentLegSettingsInput;
  readonly free?: Readonly<Record<string, boolean>>;
  readonly outcomes?: OutcomeRecorder;
  readonly start?: Date;
  /** The external agent engine (Copilot Studio) and the catalogue that names it. */
  readonly engine?: AgentEngine;
  readonly catalog?: EngagementCatalog;
  /** Where conversation state lives; default in memory (outage tests pass the Table-backed store). */
  readonly storage?: Storage;
}

export interface Posted {
  readonly status: number;
  /** The body as it goes on the wire (JSON round-trip of what the handler returned). */
  readonly body: Record<string, unknown> | undefined;
  readonly activities: Record<string, unknown>[];
}

/**
 * The agent leg behind its HTTP handler, with in-memory ports at the edge: what the outcome recorder
 * and the capacity port received, and every log line (bot and function), are kept for assertions.
 */
export class AgentLegWorld {
  readonly outcomes: InMemoryOutcomeRecorder;
  readonly recorder: OutcomeRecorder;
  readonly capacity: StaticQueueCapacity;
  readonly storage: Storage;
  readonly logs: string[] = [];
  now: Date;
  private readonly handler;

  constructor(options: WorldOptions = {}) {
    this.outcomes = new InMemoryOutcomeRecorder();
    this.storage = options.storage ?? new MemoryStorage();
    this.recorder = options.outcomes ?? this.outcomes;
    this.capacity = new StaticQueueCapacity(options.free ?? { 'renewals-voice': true });
    this.now = options.start ?? new Date('2026-03-07T23:00:00Z');
    const log: AgentLegLog = {
      warn: (message, properties) => this.logs.push(`warn ${message} ${JSON.stringify(properties ?? {})}`),
      error: (message, properties) => this.logs.push(`error ${message} ${JSON.stringify(properties ?? {})}`),
    };
    this.handler = createMessagesHandler({
      settings: parseAgentLegSettings(options.settings ?? {}),
      ports: {
        engagements: { getEngagement: (id) => (options.catalog ?? catalog).engagements.get(id) },
        capacity: this.capacity,
        outcomes: this.recorder,
        storage: this.storage,
        now: () => this.now,
        ...(options.engine === undefined ? {} : { engine: options.engine }),
      },
      log,
    });
  }

  /** Posts an activity of conversation `conversationId` (expectReplies unless `deliveryMode` says otherwise). */
  async post(activity: Record<string, unknown>, options: { token?: string; rawBody?: string; conversationId?: string } = {}): Promise<Posted> {
    // No serviceUrl by default: with one, the SDK fetches a token to reply there even for expectReplies.
    const body = {
      channelId: 'msteams',
      deliveryMode: 'expectReplies',
      from: { id: 'customer-1' },
      recipient: { id: 'agent-leg', name: 'Agent leg' },
      conversation: { id: options.conversationId ?? 'conv-1' },
      id: `activity-${Math.random().toString(36).slice(2)}`,
      ...activity,
    };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    const request = new HttpRequest({
      method: 'POST',
      url: 'http://localhost:7071/api/messages',
      body: { string: options.rawBody ?? JSON.stringify(body) },
      headers,
    });
    const context = new InvocationContext({
      functionName: 'messages',
      logHandler: (level, ...args) => this.logs.push(`${level} ${args.map(String).join(' ')}`),
    });
    const response: HttpResponseInit = await this.handler(request, context);
    const wire = response.jsonBody === undefined ? undefined : (JSON.parse(JSON.stringify(response.jsonBody)) as Record<string, unknown>);
    const activities = Array.isArray(wire?.['activities']) ? (wire['activities'] as Record<string, unknown>[]) : [];
    return { status: response.status ?? 200, body: wire, activities };
  }

  /** The agent leg state stored for a conversation (where the SDK keeps conversation state), if any. */
  async storedState(conversationId = 'conv-1'): Promise<Record<string, unknown> | undefined> {
    const key = `msteams/agent-leg/conversations/${conversationId}`;
    const items = await this.storage.read([key]);
    const item = items[key] as Record<string, unknown> | undefined;
    return item?.['agentLeg'] as Record<string, unknown> | undefined;
  }
}

export const startConversation = (value: Record<string, unknown>) => ({ type: 'event', name: 'startConversation', value });
export const says = (text: string) => ({ type: 'message', text });

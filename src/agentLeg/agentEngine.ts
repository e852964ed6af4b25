import type { CallEvent } from '../contacts/callEvent.js';
import type { AgentEngineConfig } from '../engagement/engagementSchema.js';
import type { CopilotStudioFields } from './copilotStudioFields.js';

/**
 * The engine seam of the agent leg. The built-in engine is the pure flow itself (agentLegFlow.ts);
 * an external engine (Copilot Studio) holds the conversation, and the flow relays the customer's turns
 * to it through this port and decides what its answers mean for the call (hand-off, outcome, failure).
 */

/** Engines that run outside the app, i.e. every engine the flow relays to. */
export type ExternalEngineConfig = Exclude<AgentEngineConfig, { kind: 'builtin' }>;

/** Conversation variables: the delivery's call context, flat, as a topic reads them. */
export type ConversationVariables = Readonly<Record<string, string | number | boolean>>;

export type RelayRequest =
  /** Open the agent's conversation and give it the call context; its answer is the greeting. */
  | { readonly kind: 'start'; readonly variables: ConversationVariables; readonly locale: string }
  /** What the customer said. */
  | { readonly kind: 'utterance'; readonly conversationId: string; readonly text: string; readonly locale: string }
  /** The call is over on our side (hang-up, answering machine): the agent may close its conversation. */
  | { readonly kind: 'close'; readonly conversationId: string };

/** Something the agent said, as it said it (`speak` is its SSML when it gave one). */
export interface AgentUtterance {
  readonly text: string;
  readonly speak?: string;
}

export type Disposition = NonNullable<CallEvent['disposition']>;

/** What one relayed turn of the agent amounts to. */
export interface RelayedTurn {
  readonly conversationId: string;
  readonly says: readonly AgentUtterance[];
  /** The agent transferred the customer to a representative, with its va_* fields. */
  readonly handoff?: CopilotStudioFields;
  /** The agent ended the conversation, with the outcome its variables carried. */
  readonly end?: { readonly disposition?: Disposition; readonly callbackAt?: string };
}

/**
 * Why a relay failed; each one is a `BotFailed` for the call.
 * - `EngineUnreachable`: no connection, or no HTTP answer.
 * - `EngineAuthRefused`: the agent refused our token (401/403).
 * - `EngineHttpError`: any other HTTP error status.
 * - `EngineTimedOut`: the agent's answer took longer than the engagement's turn timeout.
 * - `EngineMalformedActivity`: the answer was not usable (a bad value, or nothing to say).
 * - `EngineNotConfigured`: the engagement names an engine this app has no connection for.
 */
export type EngineFailureCode =
  'EngineUnreachable' | 'EngineAuthRefused' | 'EngineHttpError' | 'EngineTimedOut' | 'EngineMalformedActivity' | 'EngineNotConfigured';

export interface EngineFailure {
  readonly code: EngineFailureCode;
  /** For logs: ids, statuses and reasons only, never what was said. */
  readonly message: string;
}

export type RelayResult = { readonly ok: true; readonly turn: RelayedTurn } | { readonly ok: false; readonly failure: EngineFailure };

/** An engine that holds the conversation elsewhere. Never throws for the engine's own failures: they are results. */
export interface AgentEngine {
  relay(engine: ExternalEngineConfig, request: RelayRequest): Promise<RelayResult>;
}

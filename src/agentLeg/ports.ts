import type { Storage } from '@microsoft/agents-hosting';
import type { CallEvent } from '../contacts/callEvent.js';
import type { EngagementConfig } from '../engagement/engagementSchema.js';
import type { AgentEngine } from './agentEngine.js';

/** Reads engagements from the catalogue (`EngagementCatalog.engagements.get` fits as is). */
export interface EngagementLookup {
  getEngagement(id: string): EngagementConfig | undefined;
}

/** Whether a queue has a representative with the skills available right now (Graph presence and capacity). */
export interface QueueCapacityPort {
  hasCapacity(queueName: string, skills: readonly string[]): Promise<boolean>;
}

/** What recording an outcome did: a second record for the same key is a no-op, not an error. */
export type RecordOutcomeResult = 'recorded' | 'duplicate';

/**
 * Records agent-leg outcomes. The production adapter feeds reattempts (callbacks, not-right-party),
 * the do-not-contact list and the engagement's failure policy (BotFailed).
 *
 * Must be idempotent per (deliveryId, attempt, result): a redelivered activity or a retried turn may
 * record the same outcome twice, and the second must change nothing.
 */
export interface OutcomeRecorder {
  record(event: CallEvent): Promise<RecordOutcomeResult>;
}

/** Everything the agent leg needs from outside; `composeAgentLeg` builds it from settings. */
export interface AgentLegPorts {
  readonly engagements: EngagementLookup;
  readonly capacity: QueueCapacityPort;
  readonly outcomes: OutcomeRecorder;
  /** Conversation state across turns (Agents SDK storage); MemoryStorage locally, a durable one in production. */
  readonly storage: Storage;
  /** The external agent engine (Copilot Studio) for engagements that use one; without it they record BotFailed. */
  readonly engine?: AgentEngine;
  /** Injected clock; defaults to the system clock. */
  readonly now?: () => Date;
}

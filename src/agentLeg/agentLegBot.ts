import { Activity } from '@microsoft/agents-activity';
import { AgentApplication, CloudAdapter, TurnState, type TurnContext } from '@microsoft/agents-hosting';
import type { EngagementConfig } from '../engagement/engagementSchema.js';
import { ensureError } from '../errors.js';
import type { ExternalEngineConfig, RelayRequest, RelayResult } from './agentEngine.js';
import {
  agentLegStateSchema,
  INITIAL_AGENT_LEG_STATE,
  stepAgentLeg,
  type AgentLegState,
  type FlowEffect,
  type FlowInput,
  type FlowReply,
} from './agentLegFlow.js';
import { toAuthConfiguration } from './agentLegAuth.js';
import type { AgentLegSettings } from './agentLegSettings.js';
import { inboundActivitySchema, type InboundActivity } from './inboundActivity.js';
import type { AgentLegPorts } from './ports.js';
import { toFlowInputs } from './toFlowInputs.js';
import { toReplyActivities, type ConversationParties } from './toReplyActivities.js';

/** Where the flow state lives in the SDK's conversation state (one storage item per conversation). */
const STATE_PATH = 'conversation.agentLeg';
const LOCALE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

/** Structured logging without customer data: ids and reasons only, never what was said or a number. */
export interface AgentLegLog {
  warn(message: string, properties?: Readonly<Record<string, unknown>>): void;
  error(message: string, properties?: Readonly<Record<string, unknown>>): void;
}

export const consoleAgentLegLog: AgentLegLog = {
  warn: (message, properties) => console.warn(`[agentLeg] ${message}`, properties ?? {}),
  error: (message, properties) => console.error(`[agentLeg] ${message}`, properties ?? {}),
};

export interface AgentLegAppOptions {
  readonly settings: AgentLegSettings;
  readonly ports: AgentLegPorts;
  readonly log?: AgentLegLog;
}

/**
 * The agent leg as an Agents SDK application: one route for every activity, which loads the flow
 * state, feeds the activity's inputs to the pure flow, performs its effects, saves the state and only
 * then sends the replies (a reply is never sent for a state that was not saved).
 */
export function createAgentLegApp(options: AgentLegAppOptions): AgentApplication<TurnState> {
  const { settings, ports } = options;
  const log = options.log ?? consoleAgentLegLog;
  const adapter = new CloudAdapter(toAuthConfiguration(settings), undefined, undefined, {
    // With real tokens, a channel token's serviceurl claim must match the activity's serviceUrl.
    validateServiceUrl: settings.appId !== undefined,
    emitStackTrace: false,
  });
  // The SDK's default tells the customer "The agent encountered an error or bug": not on a phone call.
  // Failures inside a turn are handled there (BotFailed); what reaches here failed around it (state
  // storage, the channel) and must fail the HTTP request so the caller knows.
  adapter.onTurnError = async (context, error) => {
    log.error('agent leg turn failed outside the flow', {
      conversationId: context.activity.conversation?.id,
      activityType: context.activity.type,
      error: error.message,
    });
    throw error;
  };
  const app = new AgentApplication<TurnState>({
    adapter,
    storage: ports.storage,
    ...(settings.appId === undefined ? {} : { agentAppId: settings.appId }),
    startTypingTimer: false,
    removeRecipientMention: false,
  });
  const turn = new AgentLegTurn(settings, ports, log);
  app.addRoute(
    async () => true,
    (context, state) => turn.run(context, state),
  );
  return app;
}

class AgentLegTurn {
  constructor(
    private readonly settings: AgentLegSettings,
    private readonly ports: AgentLegPorts,
    private readonly log: AgentLegLog,
  ) {}

  async run(context: TurnContext, turnState: TurnState): Promise<void> {
    const parsed = inboundActivitySchema.safeParse(context.activity);
    if (!parsed.success) {
      this.log.warn('activity ignored: not a usable activity', { issues: parsed.error.issues.length });
      return;
    }
    const activity = parsed.data;
    const now = this.ports.now?.() ?? new Date();
    let state = this.loadState(turnState, activity);
    const replies: FlowReply[] = [];

    const inputs = toFlowInputs(activity, { name: this.settings.agentName, ...(this.settings.appId === undefined ? {} : { id: this.settings.appId }) });
    for (const input of inputs) state = await this.apply(state, input, now, replies, activity);

    if (inputs.length > 0) {
      turnState.setValue(STATE_PATH, state);
      await turnState.save(context, this.ports.storage);
    }
    if (replies.length > 0) {
      await context.sendActivities(toReplyActivities(replies, partiesOf(activity, state)).map((reply) => Activity.fromObject(reply)));
    }
  }

  /** One input through the flow; its effects performed; follow-up inputs (capacity answers) fed back. */
  private async apply(state: AgentLegState, input: FlowInput, now: Date, replies: FlowReply[], activity: InboundActivity): Promise<AgentLegState> {
    const engagement = this.engagementFor(state, input);
    try {
      const result = stepAgentLeg(state, input, now, engagement);
      const followUps: FlowInput[] = [];
      for (const effect of result.effects) {
        const followUp = await this.perform(effect, result.state);
        if (followUp !== undefined) followUps.push(followUp);
      }
      replies.push(...result.replies);
      let next = result.state;
      for (const followUp of followUps) next = await this.apply(next, followUp, now, replies, activity);
      return next;
    } catch (thrown) {
      const error = ensureError(thrown);
      this.log.error('agent leg failed; recording BotFailed', { ...idsOf(state, activity), input: input.kind, error: error.message });
      // Back to the state before this input: what it decided was not carried out.
      const failed = stepAgentLeg(state, { kind: 'failure', reason: error.message }, now, engagement);
      for (const effect of failed.effects) {
        if (effect.kind === 'record-outcome') await this.ports.outcomes.record(effect.event);
      }
      replies.push(...failed.replies);
      return failed.state;
    }
  }

  private async perform(effect: FlowEffect, state: AgentLegState): Promise<FlowInput | undefined> {
    switch (effect.kind) {
      case 'record-outcome':
        await this.ports.outcomes.record(effect.event);
        return undefined;
      case 'check-capacity':
        return { kind: 'capacity', available: await this.askCapacity(effect.queues, effect.skills, state) };
      case 'relay': {
        const result = await this.relay(effect.engine, effect.request);
        if (!result.ok)
          this.log.warn('agent engine failed', {
            ...idsOf(state),
            engine: effect.engine.kind,
            request: effect.request.kind,
            code: result.failure.code,
            reason: result.failure.message,
          });
        // Closing the agent's conversation is a courtesy: the call is over whatever it answers.
        return effect.request.kind === 'close' ? undefined : { kind: 'relayed', result };
      }
    }
  }

  private async relay(engine: ExternalEngineConfig, request: RelayRequest): Promise<RelayResult> {
    if (this.ports.engine === undefined) {
      return { ok: false, failure: { code: 'EngineNotConfigured', message: `no ${engine.kind} engine is configured in this app` } };
    }
    return this.ports.engine.relay(engine, request);
  }

  /**
   * Asks queues in order until one has a representative free. A failing capacity lookup counts as
   * "unknown" (the customer goes to the primary queue): a hand-off the customer asked for is not
   * dropped because presence could not be read.
   */
  private async askCapacity(queues: readonly string[], skills: readonly string[], state: AgentLegState): Promise<Record<string, boolean>> {
    const available: Record<string, boolean> = {};
    for (const queue of queues) {
      try {
        available[queue] = await this.ports.capacity.hasCapacity(queue, skills);
      } catch (thrown) {
        this.log.warn('queue capacity unknown; routing without it', { queue, ...idsOf(state), error: ensureError(thrown).message });
        return available;
      }
      if (available[queue] === true) break;
    }
    return available;
  }

  private engagementFor(state: AgentLegState, input: FlowInput): EngagementConfig | undefined {
    const id = input.kind === 'context' ? input.context.engagementId : state.context?.engagementId;
    return id === undefined ? undefined : this.ports.engagements.getEngagement(id);
  }

  private loadState(turnState: TurnState, activity: InboundActivity): AgentLegState {
    const stored = turnState.getValue<unknown>(STATE_PATH);
    if (stored === undefined) return INITIAL_AGENT_LEG_STATE;
    const parsed = agentLegStateSchema.safeParse(stored);
    if (parsed.success) return parsed.data;
    // Unreadable state (an older shape): starting over is safer than acting on half of it.
    this.log.error('stored agent leg state is unreadable; starting over', {
      conversationId: activity.conversation.id,
      issues: parsed.error.issues.map((i) => i.path.join('.')).slice(0, 5),
    });
    return INITIAL_AGENT_LEG_STATE;
  }
}

function partiesOf(activity: InboundActivity, state: AgentLegState): ConversationParties {
  const locale = state.context?.locale ?? (activity.locale !== undefined && LOCALE.test(activity.locale) ? activity.locale : 'en-US');
  return {
    conversationId: activity.conversation.id,
    channelId: activity.channelId,
    agent: { id: activity.recipient.id, ...(activity.recipient.name === undefined ? {} : { name: activity.recipient.name }) },
    customer: { id: activity.from.id },
    locale,
  };
}

function idsOf(state: AgentLegState, activity?: InboundActivity): Record<string, unknown> {
  return {
    ...(activity === undefined ? {} : { conversationId: activity.conversation.id }),
    ...(state.context === undefined ? {} : { engagementId: state.context.engagementId, deliveryId: state.context.deliveryId, attempt: state.context.attempt }),
  };
}

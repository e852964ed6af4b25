import { MemoryStorage } from '@microsoft/agents-hosting';
import { composeFoundation } from '../app/composeFoundation.js';
import type { Composed, CompositionContext } from '../app/registry.js';
import { composeDispatch } from '../dispatch/composeDispatch.js';
import { PresenceQueueCapacity } from '../presence/presenceQueueCapacity.js';
import { loadAgentLegSettings } from './agentLegSettings.js';
import { checkCopilotStudioAgents } from './checkCopilotStudioAgents.js';
import { CopilotStudioEngine } from './copilotStudioEngine.js';
import { createCopilotStudioTokenSource } from './copilotStudioTokens.js';
import type { AgentLegDeps } from './messagesHandler.js';
import { TableConversationStorage } from '../store/agentLeg/tableConversationStorage.js';

/**
 * The agent leg's settings and ports, on the same foundation and dispatch as the rest of the app:
 * engagements from the catalogue, hand-off capacity from dispatch's presence, outcomes into dispatch's
 * recorder (the one the dialers feed), conversation state in Table Storage (in memory with the
 * simulator, whose calls live in memory too).
 */
export async function composeAgentLeg(context: CompositionContext): Promise<Composed<AgentLegDeps>> {
  const settings = loadAgentLegSettings(process.env);
  const { catalog, tables, clock } = await context.use(composeFoundation);
  const dispatch = await context.use(composeDispatch);
  // Copilot Studio agents are checked at start: a refused token kind fails the start, not the first call.
  const tokens = createCopilotStudioTokenSource(settings.copilotStudio);
  const engine = new CopilotStudioEngine({ settings: settings.copilotStudio, tokens });
  await checkCopilotStudioAgents(catalog.engagements.values(), engine, tokens.kind, (message) => console.warn(`[agentLeg] ${message}`));
  return {
    value: {
      settings,
      ports: {
        engagements: { getEngagement: (id) => catalog.engagements.get(id) },
        capacity: new PresenceQueueCapacity(catalog, dispatch.presence, dispatch.queueMembers),
        outcomes: {
          async record(event) {
            const result = await dispatch.record(event);
            // An outcome for a delivery this app never dialed (a test call from Copilot Studio) is logged and dropped.
            if (result.status === 'unknown-delivery')
              console.warn(`agent leg outcome for unknown delivery ${event.deliveryId} of ${event.engagementId} ignored`);
            if (result.status === 'refused')
              console.warn(`agent leg outcome for delivery ${event.deliveryId} of ${event.engagementId} refused: ${result.reason}`);
            return result.status === 'duplicate' ? 'duplicate' : 'recorded';
          },
        },
        storage: context.settings().DIALER_BACKEND === 'simulator' ? new MemoryStorage() : new TableConversationStorage(tables),
        now: () => new Date(clock()),
        engine,
      },
    },
  };
}

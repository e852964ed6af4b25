import type { HttpFunctionOptions, HttpRequest, HttpResponseInit } from '@azure/functions';
import { appRegistry } from '../app/registry.js';
import type { AgentLegSettings } from './agentLegSettings.js';
import { composeAgentLeg } from './composeAgentLeg.js';
import { createMessagesHandler, type AgentLegDeps } from './messagesHandler.js';
import { buildSkillManifest, messagesEndpointUrl } from './skillManifest.js';

/** One composition serves both functions: the manifest and the messages handler share it. */
const agentLeg = (): Promise<AgentLegDeps> => appRegistry.use(composeAgentLeg);

/**
 * `POST /api/messages`, the agent leg's Bot Framework / Agents endpoint. Anonymous at the Functions
 * level on purpose: callers authenticate with a JWT the bot validates, not with a function key.
 */
export const messagesFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'messages',
  authLevel: 'anonymous',
  handler: createMessagesHandler(agentLeg),
};

/** `GET /api/messages/manifest`: public, like any skill manifest (it holds no secret). */
export const skillManifestFunction: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'messages/manifest',
  authLevel: 'anonymous',
  handler: async (request: HttpRequest): Promise<HttpResponseInit> => {
    let settings: AgentLegSettings;
    try {
      ({ settings } = await agentLeg());
    } catch {
      return { status: 503, jsonBody: { error: 'AgentLegUnavailable', message: 'the agent leg is not available; see the function logs' } };
    }
    return { status: 200, jsonBody: buildSkillManifest({ endpointUrl: messagesEndpointUrl(request.url, settings.publicBaseUrl), settings }) };
  },
};

import type { HttpFunctionOptions } from '@azure/functions';
import { getMessagesHandler, notConfigured } from './agentLegRuntime.js';

/**
 * `POST /api/messages`, the agent leg's Bot Framework / Agents endpoint. Anonymous at the Functions
 * level on purpose: callers authenticate with a JWT the bot validates, not with a function key.
 */
export const messagesFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'messages',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const handler = getMessagesHandler();
    return handler === undefined ? notConfigured() : handler(request, context);
  },
};

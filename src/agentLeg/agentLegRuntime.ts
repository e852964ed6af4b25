import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { createMessagesHandler, type AgentLegDeps, type AgentLegDepsSource } from './messagesHandler.js';

/**
 * The agent leg's dependencies for the registered functions, set once by the composition root.
 * Functions are registered at import time, before anything is configured, so their handlers read the
 * runtime here at each request; the runtime itself is built lazily at the first request.
 */
let source: AgentLegDepsSource | undefined;
let messages: HttpHandler | undefined;
let deps: Promise<AgentLegDeps> | undefined;

/**
 * Gives the agent leg its settings and ports: the dependencies, or a provider called once at the
 * first request. Call it from the composition root before the host serves requests; calling it again
 * replaces the runtime (tests, a reloaded catalogue).
 */
export function setAgentLegRuntime(next: AgentLegDepsSource): void {
  source = next;
  deps = undefined;
  // One provider call serves both functions: the manifest and the messages handler share it.
  messages = createMessagesHandler(() => getAgentLegDeps() ?? Promise.reject(new Error('agent leg runtime was cleared')));
}

/** The messages handler, or undefined when `setAgentLegRuntime` was not called. */
export function getMessagesHandler(): HttpHandler | undefined {
  return messages;
}

/** The dependencies (resolving the provider once), for functions other than messages (the skill manifest). */
export function getAgentLegDeps(): Promise<AgentLegDeps> | undefined {
  if (source === undefined) return undefined;
  if (deps === undefined) {
    const current = source;
    const attempt = typeof current === 'function' ? current() : Promise.resolve(current);
    attempt.catch(() => {
      if (deps === attempt) deps = undefined;
    });
    deps = attempt;
  }
  return deps;
}

/** 503 for a host that registered the functions but never configured the agent leg. */
export function notConfigured(): HttpResponseInit {
  return {
    status: 503,
    jsonBody: {
      error: 'AgentLegUnavailable',
      message: 'the agent leg is not configured: the composition root must call setAgentLegRuntime',
    },
  };
}

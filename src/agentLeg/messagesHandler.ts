import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { AgentApplication, Request as AgentRequest, TurnState } from '@microsoft/agents-hosting';
import { ensureError, SystemError, toFieldIssues } from '../errors.js';
import { isDependencyOutage, OUTAGE_RETRY_AFTER_SECONDS } from '../httpApi/errorResponse.js';
import { requestBudgetMs, withRequestBudget } from '../httpApi/requestBudget.js';
import { checkCaller } from './agentLegAuth.js';
import { createAgentLegApp, type AgentLegLog } from './agentLegBot.js';
import { isAllowedServiceUrl, type AgentLegSettings } from './agentLegSettings.js';
import { inboundActivitySchema } from './inboundActivity.js';
import type { AgentLegPorts } from './ports.js';
import { WebResponseRecorder } from './webResponseRecorder.js';

/** Largest activity accepted; a Copilot Studio hand-off with its transcript fits many times over. */
export const MAX_ACTIVITY_BYTES = 512 * 1024;

/** What the agent leg runs on: its settings and its ports (`composeAgentLeg` builds both). */
export interface AgentLegDeps {
  readonly settings: AgentLegSettings;
  readonly ports: AgentLegPorts;
  readonly log?: AgentLegLog;
}

/**
 * Dependencies now, or a provider asked at each request. The provider memoises (the app registry
 * does): the agent application is rebuilt only when it returns other dependencies.
 */
export type AgentLegDepsSource = AgentLegDeps | (() => Promise<AgentLegDeps>);

interface Built {
  readonly deps: AgentLegDeps;
  readonly app: AgentApplication<TurnState>;
}

/**
 * `POST /api/messages`: the Bot Framework / Agents protocol endpoint of the agent leg. Order matters:
 * the caller is authenticated (JWT, 401) and checked against the allowed callers (403) before the body
 * is even read, so a refused request changes nothing; then the body is validated (400/413), then the
 * SDK runs the turn. Replies go back in the response for `expectReplies` callers, else to the
 * activity's serviceUrl.
 */
export function createMessagesHandler(source: AgentLegDepsSource): HttpHandler {
  let built: Built | undefined;
  // A failed start is not kept: the next request asks the provider again.
  const build = async (): Promise<Built> => {
    const deps = typeof source === 'function' ? await source() : source;
    if (built?.deps !== deps) built = { deps, app: createAgentLegApp(deps) };
    return built;
  };

  return async (request: HttpRequest, invocation: InvocationContext): Promise<HttpResponseInit> => {
    let runtime: Built;
    try {
      runtime = await build();
    } catch (thrown) {
      invocation.error(`agent leg could not start: ${ensureError(thrown).message}`);
      return problem(503, 'AgentLegUnavailable', 'the agent leg is not available; see the function logs');
    }
    // The turn's Table Storage calls (conversation state, outcomes) share the request's budget, as every HTTP door's do.
    const budget = AbortSignal.timeout(requestBudgetMs());
    return withRequestBudget(requestBudgetMs(), () => handleMessage(request, invocation, runtime, budget), budget);
  };
}

async function handleMessage(request: HttpRequest, invocation: InvocationContext, { deps, app }: Built, budget: AbortSignal): Promise<HttpResponseInit> {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  const agentRequest: AgentRequest = { method: request.method, headers };
  const response = new WebResponseRecorder();

  let authorized = false;
  await app.adapter.authorizeRequest(agentRequest, response, () => {
    authorized = true;
  });
  if (!authorized) {
    invocation.warn(`agent leg request refused: ${response.statusCode} (invalid or missing token)`);
    return response.toHttpResponse();
  }
  const caller = checkCaller(agentRequest.user, deps.settings);
  if (!caller.allowed) {
    invocation.warn(`agent leg request refused: ${caller.reason}`);
    return problem(403, 'CallerNotAllowed', caller.reason);
  }

  const text = await request.text();
  if (Buffer.byteLength(text, 'utf8') > MAX_ACTIVITY_BYTES) {
    return problem(413, 'PayloadTooLarge', `an activity may be at most ${MAX_ACTIVITY_BYTES} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    return problem(400, 'InvalidRequest', 'the body is not JSON: expected a Bot Framework activity');
  }
  const activity = inboundActivitySchema.safeParse(body);
  if (!activity.success) {
    return problem(400, 'InvalidRequest', 'the body is not a usable activity', toFieldIssues(activity.error));
  }
  // Replies go to the activity's serviceUrl unless the caller takes them in the response: only to allowed hosts.
  const { serviceUrl, deliveryMode } = activity.data;
  if (serviceUrl !== undefined && deliveryMode !== 'expectReplies' && !isAllowedServiceUrl(serviceUrl, deps.settings)) {
    invocation.warn('agent leg request refused: the activity names a serviceUrl outside AGENT_LEG_ALLOWED_SERVICE_URLS');
    return problem(403, 'ServiceUrlNotAllowed', 'replies cannot be sent to this serviceUrl; see AGENT_LEG_ALLOWED_SERVICE_URLS');
  }
  agentRequest.body = body as Record<string, unknown>;

  try {
    await app.adapter.process(agentRequest, response, (context) => app.run(context));
  } catch (thrown) {
    const error = ensureError(thrown);
    if (budget.aborted || isDependencyOutage(error) || (error instanceof SystemError && error.retryable)) {
      // Named by kind only: the SDKs' messages can carry account names and endpoints.
      invocation.warn(`agent leg turn failed: a dependency is unavailable (${error.name})`);
      if (!response.writableEnded) {
        return {
          status: 503,
          headers: { 'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS) },
          jsonBody: { error: 'DependencyFailed', message: 'a dependency is unavailable; retry the same activity later' },
        };
      }
    }
    invocation.error(`agent leg turn failed: ${error.message}`);
    if (!response.writableEnded) return problem(500, 'AgentLegFailed', 'the agent leg could not handle the activity');
  }
  return response.toHttpResponse();
}

function problem(status: number, code: string, message: string, issues?: readonly { path: string; message: string }[]): HttpResponseInit {
  return { status, jsonBody: { error: code, message, ...(issues === undefined ? {} : { issues }) } };
}

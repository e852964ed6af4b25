import type { CopilotStudioEngineConfig, EngagementConfig } from '../engagement/engagementSchema.js';
import { UserError } from '../errors.js';
import type { EngineFailure } from './agentEngine.js';
import type { CopilotStudioTokenKind } from './copilotStudioTokens.js';

export interface AgentProbe {
  probe(engine: CopilotStudioEngineConfig): Promise<EngineFailure | undefined>;
}

/**
 * Start-up check of every Copilot Studio agent the engagements name: a conversation is opened (without
 * the start event, so no topic runs) with the configured token. A refused token or a missing connection
 * fails the start with what to change; an agent that is merely unreachable now is reported and left to
 * the calls (each records BotFailed), since it may come back.
 */
export async function checkCopilotStudioAgents(
  engagements: Iterable<EngagementConfig>,
  agents: AgentProbe,
  tokenKind: CopilotStudioTokenKind,
  warn: (message: string) => void,
): Promise<void> {
  const seen = new Map<string, CopilotStudioEngineConfig>();
  for (const engagement of engagements) {
    const engine = engagement.agentLeg?.engine;
    if (engine?.kind === 'copilot-studio') seen.set(`${engine.schemaName}|${engine.environmentId ?? ''}|${engine.directConnectUrl ?? ''}`, engine);
  }
  const problems: string[] = [];
  for (const engine of seen.values()) {
    const failure = await agents.probe(engine);
    if (failure === undefined) continue;
    if (failure.code === 'EngineAuthRefused') problems.push(`${failure.message}. ${refusalAdvice(tokenKind)}`);
    else if (failure.code === 'EngineNotConfigured') problems.push(failure.message);
    else warn(`Copilot Studio agent ${engine.schemaName} is not answering at start-up (${failure.code}): ${failure.message}`);
  }
  if (problems.length > 0) {
    throw new UserError('InvalidSettings', `Copilot Studio agents cannot be used:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function refusalAdvice(kind: CopilotStudioTokenKind): string {
  switch (kind) {
    case 'app-only':
      return (
        'The agent refused an app-only token: standard Copilot Studio agents accept delegated (user) tokens only. ' +
        'Set AGENT_LEG_COPILOT_STUDIO_AUTH=delegated with a service account (AGENT_LEG_COPILOT_STUDIO_USERNAME, _PASSWORD) ' +
        'and the delegated Power Platform API permission CopilotStudio.Copilots.Invoke, or use an agent kind that takes app-only tokens'
      );
    case 'delegated':
      return (
        'The agent refused the delegated token: grant the app the delegated Power Platform API permission CopilotStudio.Copilots.Invoke ' +
        '(admin consent), check the agent authenticates with Microsoft (Entra ID) and is published, and that the service account may use it'
      );
    case 'none':
      return 'The agent needs a token: set AGENT_LEG_COPILOT_STUDIO_AUTH to delegated or app-only';
  }
}

import { readFileSync } from 'node:fs';
import { loadAgentScripts } from './agentScript.js';
import { startCopilotStudioStandIn, type CopilotStudioStandInHandle } from './standIn.js';

const SETTING = 'AGENT_LEG_COPILOT_STUDIO_DIRECT_CONNECT_URL';

/**
 * `npm start`: when the engagement file has engagements on the copilot-studio engine that name no real
 * agent (no environmentId, no directConnectUrl) and AGENT_LEG_COPILOT_STUDIO_DIRECT_CONNECT_URL is not
 * set, the stand-in runs the scripted agents (COPILOT_STUDIO_SCRIPTS, else the sample) and the setting
 * points at it. Otherwise nothing starts.
 */
export async function startCopilotStudioForEngagements(
  engagementsFile: string,
  scriptsFile: string,
  log: (line: string) => void,
): Promise<CopilotStudioStandInHandle | undefined> {
  const configured = process.env[SETTING];
  if ((configured !== undefined && configured !== '') || !namesLocalAgents(engagementsFile)) return undefined;
  const standIn = await startCopilotStudioStandIn({ agents: loadAgentScripts(scriptsFile), log });
  process.env[SETTING] = standIn.url;
  process.env['AGENT_LEG_COPILOT_STUDIO_AUTH'] ??= 'none';
  return standIn;
}

function namesLocalAgents(file: string): boolean {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { engagements?: { agentLeg?: { engine?: Record<string, unknown> } }[] };
  return (parsed.engagements ?? []).some((engagement) => {
    const engine = engagement.agentLeg?.engine;
    return engine?.['kind'] === 'copilot-studio' && engine['environmentId'] === undefined && engine['directConnectUrl'] === undefined;
  });
}

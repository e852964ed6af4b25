import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgentScripts } from '../../dev/copilotStudio/agentScript.js';
import { startCopilotStudioStandIn, type CopilotStudioStandInHandle } from '../../dev/copilotStudio/standIn.js';
import { loadAgentLegSettings } from '../../src/agentLeg/agentLegSettings.js';
import { checkCopilotStudioAgents } from '../../src/agentLeg/checkCopilotStudioAgents.js';
import { CopilotStudioEngine } from '../../src/agentLeg/copilotStudioEngine.js';
import type { CopilotStudioTokenSource } from '../../src/agentLeg/copilotStudioTokens.js';
import { loadEngagementFile, type EngagementCatalog } from '../../src/engagement/loadEngagementFile.js';
import { UserError } from '../../src/errors.js';

/** Unsigned tokens shaped like Entra's (the stand-in reads claims, as Copilot Studio decides by them). */
const jwt = (claims: Record<string, unknown>) =>
  [
    { alg: 'none', typ: 'JWT' },
    { aud: 'https://api.powerplatform.com', ...claims },
  ]
    .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
    .join('.') + '.';

/** Entra stands in as a token source: what matters here is which kind of token the agent gets, and whether it takes it. */
function tokensOf(kind: 'app-only' | 'delegated', scopes: string[]): CopilotStudioTokenSource {
  return {
    kind,
    token: (scope) => {
      scopes.push(scope);
      return Promise.resolve(
        kind === 'app-only' ? jwt({ idtyp: 'app', roles: ['CopilotStudio.Copilots.Invoke'] }) : jwt({ scp: 'CopilotStudio.Copilots.Invoke' }),
      );
    },
  };
}

let standIn: CopilotStudioStandInHandle;
let catalog: EngagementCatalog;

beforeAll(async () => {
  standIn = await startCopilotStudioStandIn({ agents: loadAgentScripts('config/copilot-studio.sample.json'), auth: 'delegated-only' });
  catalog = await loadEngagementFile('config/engagements.copilot-studio.sample.json');
});
afterAll(async () => {
  await standIn.stop();
});

describe('Copilot Studio authentication at start-up', () => {
  const settings = () => loadAgentLegSettings({ AGENT_LEG_COPILOT_STUDIO_DIRECT_CONNECT_URL: standIn.url }).copilotStudio;

  it('an agent refusing app-only tokens fails the start with what to change; the token was asked for the Power Platform scope', async () => {
    const scopes: string[] = [];
    const tokens = tokensOf('app-only', scopes);
    const engine = new CopilotStudioEngine({ settings: settings(), tokens });
    const error = await checkCopilotStudioAgents(catalog.engagements.values(), engine, tokens.kind, () => undefined).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('Copilot Studio agent contoso_outboundRenewals answered HTTP 401');
    expect((error as Error).message).toContain('refused an app-only token');
    expect((error as Error).message).toContain('AGENT_LEG_COPILOT_STUDIO_AUTH=delegated');
    expect(scopes).toEqual(['https://api.powerplatform.com/.default']);
  });

  it('the same agent takes a delegated token: the start goes on', async () => {
    const tokens = tokensOf('delegated', []);
    const engine = new CopilotStudioEngine({ settings: settings(), tokens });
    const warnings: string[] = [];
    await expect(checkCopilotStudioAgents(catalog.engagements.values(), engine, tokens.kind, (m) => warnings.push(m))).resolves.toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('no connection for an agent named without an environment: the setting is named', async () => {
    const tokens = tokensOf('delegated', []);
    const engine = new CopilotStudioEngine({ settings: undefined, tokens });
    await expect(checkCopilotStudioAgents(catalog.engagements.values(), engine, tokens.kind, () => undefined)).rejects.toThrow(
      /contoso_outboundRenewals has no environmentId or directConnectUrl, and AGENT_LEG_COPILOT_STUDIO_DIRECT_CONNECT_URL is not set/,
    );
  });
});

describe('Copilot Studio settings', () => {
  it('app-only without its secret names the settings, and never echoes the password', () => {
    expect(() =>
      loadAgentLegSettings({ AGENT_LEG_COPILOT_STUDIO_AUTH: 'app-only', AGENT_LEG_COPILOT_STUDIO_TENANT_ID: '9d3c0b8e-2a6f-4c3e-8b1d-7e5f4a3b2c10' }),
    ).toThrow(/copilotStudio\.auth: app-only needs AGENT_LEG_COPILOT_STUDIO_TENANT_ID, _CLIENT_ID and _CLIENT_SECRET/);
    let message = '';
    try {
      loadAgentLegSettings({ AGENT_LEG_COPILOT_STUDIO_AUTH: 'delegated', AGENT_LEG_COPILOT_STUDIO_PASSWORD: 'hunter2-secret' });
    } catch (thrown) {
      message = (thrown as Error).message;
    }
    expect(message).toContain('delegated needs AGENT_LEG_COPILOT_STUDIO_TENANT_ID');
    expect(message).not.toContain('hunter2-secret');
  });

  it('no token in production is refused', () => {
    expect(() =>
      loadAgentLegSettings({
        AGENT_LEG_COPILOT_STUDIO_DIRECT_CONNECT_URL: 'http://127.0.0.1:1',
        AZURE_FUNCTIONS_ENVIRONMENT: 'Production',
        AGENT_LEG_APP_ID: '5b2f6a47-1c1e-4e5a-9a41-0b7f1d2c3a01',
        AGENT_LEG_TENANT_ID: '9d3c0b8e-2a6f-4c3e-8b1d-7e5f4a3b2c10',
        AGENT_LEG_CLIENT_SECRET: 'x',
      }),
    ).toThrow(/AGENT_LEG_COPILOT_STUDIO_AUTH=none \(no token\) is for the local stand-in only/);
  });
});

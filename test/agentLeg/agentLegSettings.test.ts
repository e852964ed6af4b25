import { describe, expect, it } from 'vitest';
import { checkCaller, toAuthConfiguration } from '../../src/agentLeg/agentLegAuth.js';
import { isAllowedServiceUrl, loadAgentLegSettings, parseAgentLegSettings } from '../../src/agentLeg/agentLegSettings.js';
import { UserError } from '../../src/errors.js';
import { BOT_APP_ID, COPILOT_APP_ID, STRANGER_APP_ID, TENANT_ID } from './support/tokens.js';

const configured = parseAgentLegSettings({
  appId: BOT_APP_ID,
  tenantId: TENANT_ID,
  credential: { kind: 'client-secret', secret: 'shh' },
  allowedCallers: [COPILOT_APP_ID],
});

describe('agent leg settings', () => {
  it("read from app settings by name; production is Azure's AZURE_FUNCTIONS_ENVIRONMENT", () => {
    const settings = loadAgentLegSettings({
      AGENT_LEG_APP_ID: BOT_APP_ID,
      AGENT_LEG_TENANT_ID: TENANT_ID,
      AGENT_LEG_CLIENT_SECRET: 'shh',
      AGENT_LEG_ALLOWED_CALLERS: ` ${COPILOT_APP_ID} , ${STRANGER_APP_ID}`,
      AGENT_LEG_NAME: 'the Fabrikam assistant',
      AZURE_FUNCTIONS_ENVIRONMENT: 'Production',
    });
    expect(settings).toEqual({
      appId: BOT_APP_ID,
      tenantId: TENANT_ID,
      credential: { kind: 'client-secret', secret: 'shh' },
      allowedCallers: [COPILOT_APP_ID, STRANGER_APP_ID],
      agentName: 'the Fabrikam assistant',
      production: true,
    });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('nothing set: anonymous local mode with the default name', () => {
    expect(loadAgentLegSettings({})).toEqual({ allowedCallers: [], agentName: 'the Contoso virtual assistant', production: false });
  });

  it('in App Service (WEBSITE_SITE_NAME or WEBSITE_INSTANCE_ID) without an app id, start-up is refused: Azure sets no production flag by default', () => {
    expect(() => loadAgentLegSettings({ WEBSITE_SITE_NAME: 'contoso-outbound' })).toThrow(/appId: an app id is required in production/);
    expect(() => loadAgentLegSettings({ WEBSITE_INSTANCE_ID: 'abc123' })).toThrow(/appId: an app id is required in production/);
  });

  it('reply hosts: the Bot Framework defaults in production, https only; any host locally; the setting narrows both', () => {
    const prod = parseAgentLegSettings({
      appId: '00000000-0000-4000-8000-0000000000aa',
      tenantId: '00000000-0000-4000-8000-0000000000bb',
      credential: { kind: 'managed-identity' },
      production: true,
    });
    expect(isAllowedServiceUrl('https://smba.trafficmanager.net/amer/', prod)).toBe(true);
    expect(isAllowedServiceUrl('https://europe.webchat.botframework.com/', prod)).toBe(true);
    expect(isAllowedServiceUrl('https://attacker.example/', prod)).toBe(false);
    expect(isAllowedServiceUrl('https://botframework.com.attacker.example/', prod)).toBe(false);
    expect(isAllowedServiceUrl('http://smba.trafficmanager.net/', prod)).toBe(false);
    expect(isAllowedServiceUrl('http://localhost:3978/', parseAgentLegSettings({}))).toBe(true);
    const narrowed = loadAgentLegSettings({ AGENT_LEG_ALLOWED_SERVICE_URLS: 'voice.contoso.example, *.botframework.com' });
    expect(isAllowedServiceUrl('https://voice.contoso.example/', narrowed)).toBe(true);
    expect(isAllowedServiceUrl('https://other.example/', narrowed)).toBe(false);
    expect(() => loadAgentLegSettings({ AGENT_LEG_ALLOWED_SERVICE_URLS: 'https://x.example/path' })).toThrow(/allowedServiceUrlHosts/);
  });

  it('production without an app id is refused, naming the setting', () => {
    expect(() => loadAgentLegSettings({ AZURE_FUNCTIONS_ENVIRONMENT: 'Production' })).toThrow(/appId: an app id is required in production/);
  });

  it('every problem is reported at once, and the secret is never echoed', () => {
    let error: unknown;
    try {
      loadAgentLegSettings({ AGENT_LEG_APP_ID: 'not-a-guid', AGENT_LEG_CLIENT_SECRET: 'very-secret-value', AGENT_LEG_ALLOWED_CALLERS: 'nobody' });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(UserError);
    const message = (error as UserError).message;
    expect(message).toContain("appId: expected the bot's Entra application (client) id, a GUID");
    expect(message).toContain('allowedCallers');
    expect(message).not.toContain('very-secret-value');
  });

  it('an app id needs a tenant and a credential', () => {
    expect(() => parseAgentLegSettings({ appId: BOT_APP_ID })).toThrow(/tenantId: a tenant id is required with an app id[\s\S]*credential:/);
  });
});

describe('auth configuration for the Agents SDK', () => {
  it('one explicit connection with issuer validation for our app and tenant', () => {
    const auth = toAuthConfiguration(configured);
    expect([...(auth.connections?.values() ?? [])]).toEqual([
      { clientId: BOT_APP_ID, tenantId: TENANT_ID, validateIssuer: true, authType: 'ClientSecret', clientSecret: 'shh' },
    ]);
    expect(auth.connectionsMap).toEqual([{ serviceUrl: '*', connection: 'agentLeg' }]);
  });

  it('a managed identity instead of a secret', () => {
    const auth = toAuthConfiguration(parseAgentLegSettings({ appId: BOT_APP_ID, tenantId: TENANT_ID, credential: { kind: 'managed-identity' } }));
    expect([...(auth.connections?.values() ?? [])][0]).toMatchObject({ authType: 'UserManagedIdentity', clientId: BOT_APP_ID });
  });
});

describe('checkCaller', () => {
  it('a Copilot Studio agent on the allow-list (v2 azp, or v1 appid) is allowed', () => {
    expect(checkCaller({ iss: `https://login.microsoftonline.com/${TENANT_ID}/v2.0`, azp: COPILOT_APP_ID }, configured)).toEqual({
      allowed: true,
      caller: COPILOT_APP_ID,
    });
    expect(checkCaller({ iss: `https://sts.windows.net/${TENANT_ID}/`, appid: COPILOT_APP_ID.toUpperCase() }, configured).allowed).toBe(true);
  });

  it('an app not on the list, or a token naming no app, is not', () => {
    expect(checkCaller({ iss: 'x', azp: STRANGER_APP_ID }, configured)).toEqual({
      allowed: false,
      reason: `calling app ${STRANGER_APP_ID} is not an allowed caller of the agent leg`,
    });
    expect(checkCaller({ iss: 'x' }, configured)).toEqual({ allowed: false, reason: 'the token names no calling app (azp or appid claim)' });
  });

  it("the Bot Framework channel service is the bot's own channel: allowed", () => {
    expect(checkCaller({ iss: 'https://api.botframework.com', serviceurl: 'https://smba.trafficmanager.net/amer/' }, configured)).toEqual({
      allowed: true,
      caller: 'channel-service',
    });
  });

  it('"*" allows any calling app', () => {
    const open = parseAgentLegSettings({ appId: BOT_APP_ID, tenantId: TENANT_ID, credential: { kind: 'managed-identity' }, allowedCallers: ['*'] });
    expect(checkCaller({ iss: 'x', azp: STRANGER_APP_ID }, open).allowed).toBe(true);
  });
});

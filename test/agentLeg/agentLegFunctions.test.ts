import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { MemoryStorage } from '@microsoft/agents-hosting';
import { describe, expect, it, vi } from 'vitest';
import { messagesFunction, skillManifestFunction } from '../../src/agentLeg/agentLegFunctions.js';
import { parseAgentLegSettings } from '../../src/agentLeg/agentLegSettings.js';
import { composeAgentLeg } from '../../src/agentLeg/composeAgentLeg.js';
import { InMemoryOutcomeRecorder, StaticQueueCapacity } from '../../src/agentLeg/inMemoryPorts.js';
import { SKILL_MANIFEST_SCHEMA } from '../../src/agentLeg/skillManifest.js';
import { appRegistry } from '../../src/app/registry.js';
import { anaContextValue, catalog } from './support/agentLegFixtures.js';
import { BOT_APP_ID, TENANT_ID } from './support/tokens.js';

const quiet = () => new InvocationContext({ logHandler: () => undefined });

async function call(options: typeof messagesFunction, request: HttpRequest): Promise<HttpResponseInit> {
  return await options.handler(request, quiet());
}

const manifestRequest = () => new HttpRequest({ method: 'GET', url: 'https://agents.contoso.example/api/messages/manifest' });

describe('function registrations', () => {
  it('messages is POST /api/messages, anonymous at the Functions level (the bot checks JWTs itself)', () => {
    expect(messagesFunction).toMatchObject({ methods: ['POST'], route: 'messages', authLevel: 'anonymous' });
    expect(skillManifestFunction).toMatchObject({ methods: ['GET'], route: 'messages/manifest', authLevel: 'anonymous' });
  });

  it('before the app settings are valid, both answer 503 and the log names what is missing', async () => {
    vi.stubEnv('ENGAGEMENTS_FILE', '');
    const logged: string[] = [];
    const logging = new InvocationContext({ logHandler: (_level, ...args) => logged.push(args.join(' ')) });
    try {
      const request = new HttpRequest({ method: 'POST', url: 'http://localhost/api/messages', body: { string: '{}' } });
      const response = (await messagesFunction.handler(request, logging)) as HttpResponseInit;
      expect(response.status).toBe(503);
      expect(response.jsonBody).toMatchObject({ error: 'AgentLegUnavailable' });
      expect(logged.join('\n')).toContain('ENGAGEMENTS_FILE');
      expect((await call(skillManifestFunction, manifestRequest())).status).toBe(503);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('once configured (a provider, resolved once), messages serves a conversation and the manifest describes the skill', async () => {
    let provided = 0;
    const outcomes = new InMemoryOutcomeRecorder();
    appRegistry.provide(composeAgentLeg, async () => {
      provided += 1;
      return {
        settings: parseAgentLegSettings({ appId: undefined, agentName: 'the Contoso assistant' }),
        ports: {
          engagements: { getEngagement: (id) => catalog.engagements.get(id) },
          capacity: new StaticQueueCapacity({}),
          outcomes,
          storage: new MemoryStorage(),
        },
      };
    });

    const response = await call(
      messagesFunction,
      new HttpRequest({
        method: 'POST',
        url: 'http://localhost:7071/api/messages',
        headers: { 'content-type': 'application/json' },
        body: {
          string: JSON.stringify({
            type: 'event',
            name: 'startConversation',
            value: anaContextValue,
            channelId: 'emulator',
            deliveryMode: 'expectReplies',
            from: { id: 'user' },
            recipient: { id: 'bot' },
            conversation: { id: 'conv-f' },
          }),
        },
      }),
    );
    expect(response.status).toBe(200);
    expect(JSON.stringify(response.jsonBody)).toContain('Hello, this is the Contoso assistant. Am I speaking with Ana?');

    const manifest = await call(skillManifestFunction, manifestRequest());
    expect(manifest.status).toBe(200);
    expect(manifest.jsonBody).toMatchObject({
      $schema: SKILL_MANIFEST_SCHEMA,
      endpoints: [
        {
          name: 'default',
          protocol: 'BotFrameworkV3',
          endpointUrl: 'https://agents.contoso.example/api/messages',
          msAppId: '00000000-0000-0000-0000-000000000000',
        },
      ],
    });
    const activities = (manifest.jsonBody as { activities: Record<string, { type: string; name?: string }> }).activities;
    expect(
      Object.values(activities)
        .map((a) => `${a.type}:${a.name ?? ''}`)
        .sort(),
    ).toEqual(['event:answeringMachineDetected', 'event:handoff.initiate', 'event:startConversation', 'message:']);
    expect(provided).toBe(1);
  });

  it('the manifest names the configured public URL and app id', async () => {
    appRegistry.provide(composeAgentLeg, () => ({
      settings: parseAgentLegSettings({
        appId: BOT_APP_ID,
        tenantId: TENANT_ID,
        credential: { kind: 'managed-identity' },
        publicBaseUrl: 'https://pe-connector.azurewebsites.net/',
      }),
      ports: {
        engagements: { getEngagement: () => undefined },
        capacity: new StaticQueueCapacity({}),
        outcomes: new InMemoryOutcomeRecorder(),
        storage: new MemoryStorage(),
      },
    }));
    const manifest = await call(skillManifestFunction, manifestRequest());
    expect(manifest.jsonBody).toMatchObject({
      endpoints: [{ endpointUrl: 'https://pe-connector.azurewebsites.net/api/messages', msAppId: BOT_APP_ID }],
    });
  });

  it('a provider that fails is reported as 503 and tried again at the next request', async () => {
    let attempts = 0;
    appRegistry.provide(composeAgentLeg, async () => {
      attempts += 1;
      throw new Error('engagement file missing');
    });
    const request = () => new HttpRequest({ method: 'POST', url: 'http://localhost/api/messages', body: { string: '{}' } });
    expect((await call(messagesFunction, request())).status).toBe(503);
    expect((await call(messagesFunction, request())).status).toBe(503);
    expect(attempts).toBe(2);
  });
});

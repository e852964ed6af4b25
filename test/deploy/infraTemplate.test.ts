import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAgentLegSettings } from '../../src/agentLeg/agentLegSettings.js';
import { loadSettings } from '../../src/settings/settings.js';
import { loadRegistrations } from './loadRegistrations.js';

/**
 * infra/main.bicep, read as text: no Bicep compiler runs here (the Bicep CLI is a .NET binary outside
 * the npm registry), so `az deployment group create` is the first compile. What these tests hold is the
 * template's agreement with the app: the app settings it writes satisfy the app's own settings loaders
 * as they run in Azure, every binding's connection has its identity-based setting, the queues come from
 * config/servicebus.json with every property mapped, and each role is assigned on the right resource.
 */
const bicep = readFileSync('infra/main.bicep', 'utf8');
const example = JSON.parse(readFileSync('infra/main.parameters.example.json', 'utf8')) as {
  parameters: Record<string, { value?: unknown; reference?: unknown }>;
};
const sample = (JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> }).Values;
const busConfig = JSON.parse(readFileSync('config/servicebus.json', 'utf8')) as {
  UserConfig: { Namespaces: { Queues: { Name: string; Properties: Record<string, unknown> }[] }[] };
};
const busQueues = busConfig.UserConfig.Namespaces.flatMap((n) => n.Queues);

interface Param {
  readonly name: string;
  readonly hasDefault: boolean;
  readonly secure: boolean;
}

function params(): Param[] {
  const lines = bicep.split('\n');
  return lines.flatMap((line, i) => {
    const match = /^param (\w+) \w+( = .+)?$/.exec(line);
    if (match === null) return [];
    // Decorators sit on the lines right above.
    let j = i - 1;
    let secure = false;
    for (; j >= 0 && lines[j]?.startsWith('@') === true; j--) {
      if (lines[j] === '@secure()') secure = true;
    }
    return [{ name: match[1] ?? '', hasDefault: match[2] !== undefined, secure }];
  });
}

/** The keys of the `appSettings` variable (every branch of its union), in the order written. */
function appSettingNames(): string[] {
  const start = bicep.indexOf('var appSettings = union(');
  const end = bicep.indexOf('\nresource functionApp ');
  expect(start, 'var appSettings = union(...) in main.bicep').toBeGreaterThan(0);
  return [...bicep.slice(start, end).matchAll(/^\s*(?:\{ )?([A-Za-z_][A-Za-z0-9_]*): /gm)].map((m) => m[1] ?? '');
}

/** The resource block (declaration to the next top-level line) of a resource by symbolic name. */
function resourceBlock(symbol: string): string {
  const start = bicep.search(new RegExp(`^resource ${symbol} `, 'm'));
  if (start < 0) throw new Error(`main.bicep has no resource ${symbol}`);
  const rest = bicep.slice(start);
  const end = rest.search(/\n\}\n/);
  return rest.slice(0, end + 2);
}

/** Settings the Functions platform and the host read, beside the app's own (local.settings.sample.json). */
const PLATFORM_SETTINGS = new Set([
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'languageWorkers__node__arguments',
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__tableServiceUri',
  'AzureWebJobsStorage__credential',
  'ServiceBusConnection__fullyQualifiedNamespace',
  'SegmentExportsStorage__blobServiceUri',
  'SegmentExportsStorage__queueServiceUri',
]);

/** A value of the right shape for each setting the template writes, as Azure would hold it after deployment. */
const DEPLOYED_VALUES: Readonly<Record<string, string>> = {
  AzureWebJobsStorage__accountName: 'proactiveabc123st',
  AzureWebJobsStorage__tableServiceUri: 'https://proactiveabc123st.table.core.windows.net/',
  AzureWebJobsStorage__credential: 'managedidentity',
  ServiceBusConnection__fullyQualifiedNamespace: 'sb-proactive-abc123.servicebus.windows.net',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD',
  ENGAGEMENTS_FILE: 'config/engagements.json',
  CONTACT_BATCHES_QUEUE: 'contact-batches',
  PACING_SCHEDULE: '*/5 * * * * *',
  JOURNEY_OUTBOX_SCHEDULE: '*/10 * * * * *',
  SegmentExportsStorage__blobServiceUri: 'https://proactiveabc123st.blob.core.windows.net/',
  SegmentExportsStorage__queueServiceUri: 'https://proactiveabc123st.queue.core.windows.net/',
  SEGMENT_EXPORTS_CONTAINER: 'customer-insights',
  TABLE_PREFIX: '',
  DIALER_BACKEND: 'dynamics365',
  DATAVERSE_URL: 'https://contoso.crm.dynamics.com',
  PRESENCE_SOURCE: 'graph',
  CALL_EVENTS_SIGNING_SECRET: 'k'.repeat(44),
  DNC_HASH_KEY: 'h'.repeat(44),
  AGENT_LEG_APP_ID: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
  AGENT_LEG_TENANT_ID: '9b2c6a1e-5d47-4f0a-8c3e-2f6d1b7a9e40',
  AGENT_LEG_ALLOWED_CALLERS: '',
  AGENT_LEG_PUBLIC_BASE_URL: 'https://proactive-abc123.azurewebsites.net',
  AGENT_LEG_CLIENT_SECRET: 'bot-secret-value',
  AGENT_LEG_USE_MANAGED_IDENTITY: 'true',
  FUNCTIONS_EXTENSION_VERSION: '~4',
  languageWorkers__node__arguments: '--optimize-for-size',
  FUNCTIONS_WORKER_RUNTIME: 'node',
  WEBSITE_CONTENTAZUREFILECONNECTIONSTRING: 'DefaultEndpointsProtocol=https;AccountName=proactiveabc123st',
  WEBSITE_CONTENTSHARE: 'proactive-abc123',
};

describe('infra/main.bicep', () => {
  let names: string[] = [];
  let deployed: Record<string, string> = {};
  beforeAll(() => {
    names = appSettingNames();
    // App Service sets these on every instance: the app's settings loaders then apply their Azure rules.
    deployed = { WEBSITE_SITE_NAME: 'proactive-abc123', WEBSITE_INSTANCE_ID: 'instance-1' };
    for (const name of names) deployed[name] = DEPLOYED_VALUES[name] ?? '';
  });

  it('writes only app settings the app or the platform reads, each once', () => {
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect(names.filter((n) => !(n in sample) && !PLATFORM_SETTINGS.has(n))).toEqual([]);
    expect(names.filter((n) => !(n in DEPLOYED_VALUES))).toEqual([]);
  });

  it('gives the app every setting it requires in Azure: its settings loaders accept what the template writes', () => {
    expect(() => loadSettings(deployed)).not.toThrow();
    expect(loadSettings(deployed)).toMatchObject({ DIALER_BACKEND: 'dynamics365', CONTACT_BATCHES_QUEUE: 'contact-batches' });
    // The bot's credential is one branch or the other: each alone satisfies the agent leg.
    for (const [kept, dropped] of [
      ['AGENT_LEG_CLIENT_SECRET', 'AGENT_LEG_USE_MANAGED_IDENTITY'],
      ['AGENT_LEG_USE_MANAGED_IDENTITY', 'AGENT_LEG_CLIENT_SECRET'],
    ]) {
      expect(names).toContain(kept);
      const branch = { ...deployed };
      delete branch[dropped ?? ''];
      expect(() => loadAgentLegSettings(branch), kept).not.toThrow();
    }
    // The check is live: the same loaders refuse the deployment without a setting the template provides.
    for (const required of [
      'CALL_EVENTS_SIGNING_SECRET',
      'DNC_HASH_KEY',
      'DIALER_BACKEND',
      'ServiceBusConnection__fullyQualifiedNamespace',
      'AzureWebJobsStorage__tableServiceUri',
    ]) {
      const without = { ...deployed };
      delete without[required];
      expect(() => loadSettings(without), required).toThrow(new RegExp(required.split('__')[0] ?? required));
    }
    const withoutBot = { ...deployed };
    delete withoutBot['AGENT_LEG_APP_ID'];
    expect(() => loadAgentLegSettings(withoutBot)).toThrow(/appId/);
  });

  it('sets the identity-based connection of every setting a binding connects through, the settings bindings name, and the queue a binding reads', () => {
    const { functions } = loadRegistrations();
    const bindings = functions.flatMap((f) => Object.values(f.bindings));
    const connections = new Map(bindings.flatMap((b) => (typeof b['connection'] === 'string' ? [[b['connection'], String(b['type'])] as const] : [])));
    expect(Object.fromEntries(connections)).toEqual({ ServiceBusConnection: 'serviceBusTrigger', SegmentExportsStorage: 'blobTrigger' });
    // The identity-based form the extension of each binding type reads (a blob trigger: blobs, and its poison queue).
    const identitySettings: Readonly<Record<string, readonly string[]>> = {
      serviceBusTrigger: ['__fullyQualifiedNamespace'],
      blobTrigger: ['__blobServiceUri', '__queueServiceUri'],
    };
    for (const [connection, type] of connections) {
      expect(identitySettings, type).toHaveProperty([type]);
      for (const suffix of identitySettings[type] ?? []) expect(names).toContain(`${connection}${suffix}`);
    }
    // The host resolves %NAME% from app settings only: a default in the app's settings schema does not reach it.
    const placeholders = new Set(
      bindings.flatMap((b) => Object.values(b).flatMap((v) => (typeof v === 'string' ? [...v.matchAll(/%([^%]+)%/g)].map((m) => m[1] ?? '') : []))),
    );
    expect([...placeholders].filter((p) => !names.includes(p))).toEqual([]);
    expect(placeholders.size).toBeGreaterThanOrEqual(4);
    const queue = /^\s*CONTACT_BATCHES_QUEUE: '([^']+)'$/m.exec(bicep)?.[1];
    expect(busQueues.map((q) => q.Name)).toContain(queue);
    // The watched container is created, under the name the setting gives.
    expect(bicep).toMatch(/^\s+SEGMENT_EXPORTS_CONTAINER: segmentExportsContainer$/m);
    expect(resourceBlock('exportsContainer')).toContain('name: segmentExportsContainer\n');
  }, 60_000);

  it('creates every queue of config/servicebus.json with every property the broker config sets', () => {
    const path = /loadJsonContent\('([^']+)'\)/.exec(bicep)?.[1] ?? '';
    expect(resolve('infra', path)).toBe(resolve('config/servicebus.json'));
    expect(existsSync(resolve('infra', path))).toBe(true);
    expect(bicep).toMatch(/for queue in busQueues:/);
    expect(bicep).toMatch(/name: queue\.Name$/m);
    const properties = new Set(busQueues.flatMap((q) => Object.keys(q.Properties)));
    for (const property of properties) {
      const camel = property.charAt(0).toLowerCase() + property.slice(1);
      expect(bicep, property).toMatch(new RegExp(`^\\s+${camel}: queue\\.Properties\\.${property}$`, 'm'));
    }
    // What the app relies on: duplicate detection for idempotent intake, dead-lettering, a lock the
    // batch handler finishes within, a bounded number of deliveries; Standard tier for all of it.
    const batches = busQueues.find((q) => q.Name === 'contact-batches')?.Properties;
    expect(batches).toMatchObject({ RequiresDuplicateDetection: true, DeadLetteringOnMessageExpiration: true, LockDuration: 'PT1M', MaxDeliveryCount: 10 });
    expect(resourceBlock('serviceBus')).toMatch(/sku: \{ name: 'Standard', tier: 'Standard' \}/);
  });

  it('assigns each data role to the app identity on the resource it governs', () => {
    const expected = [
      ['sbSender', 'serviceBusDataSender', '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39', 'serviceBus'],
      ['sbReceiver', 'serviceBusDataReceiver', '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0', 'serviceBus'],
      ['tableContributor', 'storageTableDataContributor', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', 'storage'],
      ['blobOwner', 'storageBlobDataOwner', 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', 'storage'],
      ['queueContributor', 'storageQueueDataContributor', '974c5e8b-45b9-4653-ba55-5f855dd0fb88', 'storage'],
      ['metricsPublisher', 'monitoringMetricsPublisher', '3913510d-42f4-4e42-8a64-420c390055eb', 'insights'],
    ] as const;
    for (const [symbol, role, id, scope] of expected) {
      expect(bicep, role).toMatch(new RegExp(`^\\s+${role}: '${id}'$`, 'm'));
      const block = resourceBlock(symbol);
      expect(block).toContain(`scope: ${scope}\n`);
      expect(block).toContain(`roles.${role})`);
      expect(block).toContain('principalId: functionApp.identity.principalId');
    }
  });

  it('runs the app on Node.js 22 with a system-assigned identity, on Flex Consumption or Elastic Premium', () => {
    const app = resourceBlock('functionApp');
    expect(app).toContain("runtime: { name: 'node', version: '22' }");
    expect(app).toContain("linuxFxVersion: isFlex ? null : 'Node|22'");
    expect(app).toMatch(/type: 'SystemAssigned'/);
    expect(app).toContain("authentication: { type: 'SystemAssignedIdentity' }");
    expect(bicep).toContain("@allowed(['FlexConsumption', 'Premium'])");
    expect(resourceBlock('plan')).toContain("{ name: 'FC1', tier: 'FlexConsumption' }");
  });

  it('takes secrets as secure parameters, and the example gives every required one, secrets from Key Vault', () => {
    const declared = params();
    const byName = new Map(declared.map((p) => [p.name, p]));
    expect(declared.filter((p) => p.secure).map((p) => p.name)).toEqual(['callEventsSigningSecret', 'dncHashKey', 'botClientSecret']);
    for (const p of declared.filter((d) => !d.hasDefault)) expect(example.parameters, p.name).toHaveProperty([p.name]);
    for (const [name, given] of Object.entries(example.parameters)) {
      expect(byName.has(name), `${name} is not a parameter of main.bicep`).toBe(true);
      if (byName.get(name)?.secure === true) expect(given.reference, `${name} comes from Key Vault`).toBeDefined();
    }
    for (const name of ['dataverseUrl', 'botAppId']) expect(byName.has(name)).toBe(true);
  });
});

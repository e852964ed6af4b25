import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { ServiceBusClient, type ServiceBusSender } from '@azure/service-bus';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { azuriteTablesConnectionString, startAzurite, type AzuriteHandle } from '../../dev/azurite.js';
import { freePort } from '../../dev/freePort.js';
import { SERVICE_BUS_CLIENT_OPTIONS } from '../../src/bus/serviceBusClient.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { DEFAULT_REQUEST_BUDGET_MS, setRequestBudget } from '../../src/httpApi/requestBudget.js';
import { segmentMembersHandler } from '../../src/intake/intakeHttp.js';
import { IntakeService } from '../../src/intake/intakeService.js';
import { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { Tables } from '../../src/store/tables.js';
import { TableConversationStorage } from '../../src/store/agentLeg/tableConversationStorage.js';
import { anaContextValue } from '../agentLeg/support/agentLegFixtures.js';
import { AgentLegWorld, startConversation } from '../agentLeg/support/agentLegWorld.js';
import { startBroker } from '../support/serviceBus.js';
import { oneQueueCatalog } from '../support/engagements.js';

/**
 * Outages while a segment page is taken in: Azurite stopped, the broker stopped between two publishes,
 * a storage endpoint that accepts and never answers. Each answers 503 with Retry-After (the request's
 * dependency budget bounds the wait), and the same request after recovery completes exactly once:
 * every batch in the queue once, every contact reserved once.
 */

const QUEUES = ['storage-down', 'broker-down', 'storage-silent'] as const;
const HOUR = 3_600_000;
const catalog = oneQueueCatalog();

let broker: Awaited<ReturnType<typeof startBroker>>;
/** The product's own Service Bus options (bounded retries), not the assertion client's. */
let productBus: ServiceBusClient;

beforeAll(async () => {
  broker = await startBroker(QUEUES.map((name) => ({ name, duplicateDetection: true })));
  productBus = new ServiceBusClient(broker.broker.connectionString, SERVICE_BUS_CLIENT_OPTIONS);
});
afterAll(async () => {
  setRequestBudget(DEFAULT_REQUEST_BUDGET_MS);
  await productBus.close();
  await broker.stop();
});
afterEach(async () => broker.broker.resume());

/** Contacts whose windows open an hour apart from `now + 1 h`: with one contact a batch, each is its own scheduled publish. */
function page(n: number, now: number): string {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify(
      contactInputSchema.parse({
        contactId: `c-${i}`,
        phones: { mobile: `+1212555${String(3000 + i)}` },
        windows: [{ start: new Date(now + (i + 1) * HOUR).toISOString(), end: new Date(now + (i + 2) * HOUR).toISOString() }],
      }),
    ),
  ).join('\n');
}

function handlerFor(tables: Tables, sender: ServiceBusSender) {
  const intake = new IntakeService({
    catalog,
    doNotContact: new DoNotContactStore(tables, 0),
    ledger: new FrequencyLedgerStore(tables),
    pending: new PendingContactStore(tables),
    sender,
    batchMaxContacts: 1,
  });
  return segmentMembersHandler(async () => ({ intake, maxPageSize: 1_000 }));
}

async function post(handler: ReturnType<typeof handlerFor>, body: string): Promise<HttpResponseInit> {
  const query = '?segmentId=seg&exportRunId=run-1&page=0';
  const request = new HttpRequest({
    method: 'POST',
    url: `http://localhost:7071/api/engagements/e/segment-members${query}`,
    body: { string: body },
    headers: { 'content-type': 'application/x-ndjson' },
    params: { engagementId: 'e' },
    query: Object.fromEntries(new URLSearchParams(query)),
  });
  return handler(request, new InvocationContext({ functionName: 'segmentMembers', logHandler: () => undefined }));
}

/** Messages in the queue, due and scheduled (the broker's own count, as the management API reports it). */
function depth(queue: string): number {
  const stats = broker.broker.stats(queue);
  return stats.active + stats.scheduled;
}

async function pendingRows(connectionString: string, tables: string): Promise<{ contactId: string; state: string }[]> {
  const table = TableClient.fromConnectionString(connectionString, `${tables}PendingContacts`, { allowInsecureConnection: true });
  const rows: { contactId: string; state: string }[] = [];
  for await (const e of table.listEntities<{ state: string }>()) rows.push({ contactId: e.rowKey ?? '', state: e.state });
  return rows.sort((a, b) => (a.contactId < b.contactId ? -1 : 1));
}

function expect503(response: HttpResponseInit): void {
  expect(response.status).toBe(503);
  expect((response.headers as Record<string, string>)['Retry-After']).toBe('10');
  expect(response.jsonBody).toMatchObject({ error: 'DependencyFailed' });
  // No dependency internals: no endpoint, port or account in what the caller sees.
  expect(JSON.stringify(response.jsonBody)).not.toMatch(/127\.0\.0\.1|devstoreaccount1|amqp|ECONN/i);
}

describe('dependencies down at the door', () => {
  let azurite: AzuriteHandle | undefined;
  let folder: string | undefined;
  afterAll(async () => {
    await azurite?.stop();
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  });

  it('Azurite stopped: 503 with Retry-After and nothing published; after it is back the same request completes once', async () => {
    setRequestBudget(DEFAULT_REQUEST_BUDGET_MS);
    folder = mkdtempSync(join(tmpdir(), 'azurite-outage-'));
    const port = await freePort();
    azurite = await startAzurite({ port, location: folder });
    const connectionString = azuriteTablesConnectionString(port);
    const prefix = `t${Math.random().toString(36).slice(2, 10)}`;
    const handler = handlerFor(new Tables({ connectionString }, prefix), productBus.createSender('storage-down'));
    const now = Date.now();
    const body = page(4, now);

    await azurite.stop();
    expect503(await post(handler, body));
    expect(depth('storage-down')).toBe(0);

    azurite = await startAzurite({ port, location: folder });
    const done = await post(handler, body);
    expect(done.status).toBe(202);
    expect(done.jsonBody).toMatchObject({ received: 4, accepted: 4, batches: 4 });
    expect(depth('storage-down')).toBe(4);
    expect((await pendingRows(connectionString, prefix)).map((r) => r.state)).toEqual(['pending', 'pending', 'pending', 'pending']);

    // A client that did not see the 202 retries once more: the same trigger, nothing added.
    const again = await post(handler, body);
    expect(again.status).toBe(202);
    expect(depth('storage-down')).toBe(4);
    expect(await pendingRows(connectionString, prefix)).toHaveLength(4);
  });

  it('the broker stopped between two publishes: 503, then the retry publishes only what is missing', async () => {
    setRequestBudget(4_000);
    const prefix = `t${Math.random().toString(36).slice(2, 10)}`;
    const connectionString = (await import('vitest')).inject('azuriteTablesConnection');
    const real = productBus.createSender('broker-down');
    let publishes = 0;
    // The real sender; the test only picks the moment: the broker goes down once the first batch is acknowledged.
    const sender = new Proxy(real, {
      get(target, key, receiver) {
        if (key !== 'scheduleMessages') return Reflect.get(target, key, receiver) as unknown;
        return async (...args: Parameters<ServiceBusSender['scheduleMessages']>) => {
          const result = await target.scheduleMessages(...args);
          if (++publishes === 1) await broker.broker.suspend();
          return result;
        };
      },
    });
    const handler = handlerFor(new Tables({ connectionString }, prefix), sender);
    const body = page(3, Date.now());

    expect503(await post(handler, body));
    await broker.broker.resume();
    expect(depth('broker-down')).toBe(1);
    // The contact whose batch is out stays reserved for the retry; the others were given back.
    expect((await pendingRows(connectionString, prefix)).map((r) => r.state)).toEqual(['pending', 'released', 'released']);

    const done = await post(handler, body);
    expect(done.status).toBe(202);
    expect(done.jsonBody).toMatchObject({ received: 3, accepted: 3 });
    expect(depth('broker-down')).toBe(3);
    expect((await pendingRows(connectionString, prefix)).map((r) => r.state)).toEqual(['pending', 'pending', 'pending']);
  });

  it('a storage endpoint that accepts and never answers: 503 once the request budget is spent', async () => {
    setRequestBudget(1_000);
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const handler = handlerFor(new Tables({ connectionString: azuriteTablesConnectionString(port) }, 'tsilent'), productBus.createSender('storage-silent'));
      expect503(await post(handler, page(2, Date.now())));
      expect(depth('storage-silent')).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('/api/messages with its conversation store down: 503 with Retry-After, then the same activity is answered', async () => {
    setRequestBudget(DEFAULT_REQUEST_BUDGET_MS);
    const store = mkdtempSync(join(tmpdir(), 'azurite-agent-'));
    const port = await freePort();
    let tables = await startAzurite({ port, location: store });
    try {
      const world = new AgentLegWorld({
        storage: new TableConversationStorage(new Tables({ connectionString: azuriteTablesConnectionString(port) }, 'tagentoutage')),
      });
      await tables.stop();
      const down = await world.post(startConversation(anaContextValue));
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ error: 'DependencyFailed' });
      expect(JSON.stringify(down.body)).not.toMatch(/127\.0\.0\.1|devstoreaccount1/);
      tables = await startAzurite({ port, location: store });
      const up = await world.post(startConversation(anaContextValue));
      expect(up.status).toBe(200);
      expect(up.activities[0]?.['text']).toMatch(/^Hello, this is .*Am I speaking with Ana\?$/);
      expect(world.outcomes.events).toEqual([]);
    } finally {
      await tables.stop();
      rmSync(store, { recursive: true, force: true });
    }
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BlobServiceClient } from '@azure/storage-blob';
import { azuriteConnectionString } from '../../dev/azurite.js';
import { freePort } from '../../dev/freePort.js';
import { openAllDayEngagementFile } from '../support/appEnvironment.js';
import { mobileEngagementEntry } from '../support/engagements.js';
import { watchOutput, type ChildOutput } from '../support/childOutput.js';

/**
 * `npm start` as a user runs it: the compiled app (`npm test` builds it first) under plain Node.js ESM,
 * with its own Azurite, Service Bus broker and simulator, on free ports.
 */
let host: ChildProcess | undefined;
let base = '';
let output: ChildOutput | undefined;
let storageConnection = '';

beforeAll(async () => {
  if (!existsSync('dist-dev/start.js')) throw new Error('dist/ is missing: run "npm run build" (npm test does it first)');
  const [http, bus, tables, blobs] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  base = `http://127.0.0.1:${http}`;
  storageConnection = azuriteConnectionString(tables, blobs);
  host = spawn(process.execPath, ['dist-dev/start.js'], {
    env: {
      ...process.env,
      ENGAGEMENTS_FILE: openAllDayEngagementFile([
        {
          id: 'ai-open',
          name: 'AI open',
          workstream: 'ws',
          channel: 'voice',
          routing: { primaryQueue: 'q-all-day' },
          type: 'ai-led',
          dialMode: { mode: 'copilot', maxConcurrentCalls: 5 },
          agentLeg: { purpose: 'your appointment is tomorrow', voicemail: { action: 'end' } },
          phoneOrder: ['mobile'],
          quietHours: { mobile: [] },
          legalHours: { start: '00:00', end: '24:00' },
          timeZonePolicy: 'utc',
        },
        mobileEngagementEntry('ci-export', 'q-all-day', {
          name: 'Segment exports',
          paused: true,
          customerInsights: { exports: { container: 'customer-insights', prefix: 'drops/' } },
        }),
      ]),
      FUNCTIONS_HTTP_PORT: String(http),
      SERVICEBUS_PORT: String(bus),
      AZURITE_TABLE_PORT: String(tables),
      AZURITE_BLOB_PORT: String(blobs),
      ServiceBusConnection: '',
      AzureWebJobsStorage: '',
      PACING_SCHEDULE: '*/1 * * * * *',
      SIMULATOR_TIME_SCALE: '20',
      SIMULATOR_PROFILE: JSON.stringify({ liveAnswer: 1, answeringMachine: 0, busy: 0, invalidAddress: 0, callFailed: 0 }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  output = watchOutput(host);
  await output.waitFor(/^Ready\./m, 45_000);
}, 60_000);

afterAll(async () => {
  if (host === undefined || host.exitCode !== null) return;
  const exited = new Promise<number | null>((r) => host?.once('exit', (code) => r(code)));
  host.kill('SIGINT');
  const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
  if (code === null) host.kill('SIGKILL');
});

async function json(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('npm start (the compiled app on the local host)', () => {
  it('lists every function the entry files register', () => {
    for (const name of [
      'journeyEvents',
      'segmentMembers',
      'preview',
      'contactBatches',
      'pacingTick',
      'callEvents',
      'engagementStatus',
      'engagementRestart',
      'messages',
      'skillManifest',
      'segmentExportBlob',
      'journeyOutbox',
    ]) {
      expect(output?.text()).toContain(`  ${name}: [`);
    }
  });

  it('a journey event becomes a dialed call with an outcome, visible in the status API', async () => {
    const events = [0, 1, 2].map((i) => ({ eventId: `e${i}`, journeyId: 'j', contactId: `c${i}`, firstName: 'Ada', phones: { mobile: `+1212555010${i}` } }));
    const accepted = await json('/api/engagements/open/journey-events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ accepted: 3, batches: 1 });
    let results: Record<string, number> = {};
    // Calls play out in the child process on its own timers; its status API is the only view of them.
    await vi.waitFor(
      async () => {
        const status = await json('/api/engagements/open/status');
        results = (status.body['counts'] as { resultsLast24h: Record<string, number> }).resultsLast24h;
        expect(Object.values(results).reduce((a, b) => a + b, 0)).toBe(3);
      },
      { timeout: 40_000, interval: 500 },
    );
    // Every call is answered; with one representative and two calls a representative, one may be abandoned.
    expect(Object.values(results).reduce((a, b) => a + b, 0)).toBe(3);
    expect(Object.keys(results).every((r) => r === 'LiveAnswer' || r === 'Abandoned')).toBe(true);
    expect(results['LiveAnswer']).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it("a segment export dropped in Azurite's blob container is taken by the polled blob trigger, visible in the status API", async () => {
    const container = BlobServiceClient.fromConnectionString(storageConnection).getContainerClient('customer-insights');
    await container.createIfNotExists();
    const csv = 'contactid,firstname,mobilephone\r\nx1,"Ada, A.",+12125550201\r\nx2,Bob,+12125550202\r\nx3,Cy\r\n';
    await container.getBlockBlobClient('drops/list.csv').upload(csv, Buffer.byteLength(csv));
    await vi.waitFor(
      async () => {
        const status = await json('/api/engagements/ci-export/status');
        expect((status.body['segmentExports'] as unknown[] | undefined)?.[0]).toMatchObject({ state: 'completed', totalRows: 3, accepted: 2, badRows: 1 });
      },
      { timeout: 30_000, interval: 500 },
    );
  }, 45_000);

  it('routes errors as the Functions host would: 404 for an unknown route, 400 with issues for a bad body', async () => {
    expect((await fetch(`${base}/api/nowhere`)).status).toBe(404);
    const bad = await json('/api/engagements/open/journey-events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[{"eventId":"x"}]',
    });
    expect(bad.status).toBe(400);
    expect((bad.body['issues'] as { path: string }[]).map((i) => i.path)).toContain('[0].contactId');
  });

  it('the agent leg answers a call context with its greeting (anonymous locally, expectReplies)', async () => {
    const activity = {
      type: 'event',
      name: 'startConversation',
      channelId: 'test',
      serviceUrl: 'http://localhost:1/unused',
      deliveryMode: 'expectReplies',
      id: 'a1',
      from: { id: 'caller' },
      recipient: { id: 'bot' },
      conversation: { id: 'conv-local-1' },
      value: { engagementId: 'ai-open', deliveryId: 'd-local', attempt: 1, firstName: 'Ana', timeZone: 'America/New_York' },
    };
    const reply = await json('/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    expect(reply.status).toBe(200);
    const texts = (reply.body['activities'] as { text?: string }[]).map((a) => a.text ?? '');
    expect(texts.join(' ')).toMatch(/Am I speaking with Ana\?/);
  });
});

describe('npm start with an invalid engagement file', () => {
  it('fails start-up naming the engagement and every bad field, and leaves nothing running', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'bad-engagements-')), 'engagements.json');
    writeFileSync(
      file,
      JSON.stringify({
        queues: [{ name: 'q', operatingHours: { timeZone: 'UTC', days: {} }, representatives: [{ userId: '00000000-0000-4000-8000-000000000001' }] }],
        engagements: [
          {
            id: 'bad-one',
            name: 'x',
            workstream: 'w',
            channel: 'voice',
            routing: { primaryQueue: 'q' },
            type: 'representative-led',
            dialMode: { mode: 'copilot', maxConcurrentCalls: 9999 },
            phoneOrder: ['mobile'],
            quietHours: { mobile: [] },
          },
        ],
      }),
    );
    const [http, bus, tables, blobs] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const child = spawn(process.execPath, ['dist-dev/start.js'], {
      env: {
        ...process.env,
        ENGAGEMENTS_FILE: file,
        FUNCTIONS_HTTP_PORT: String(http),
        SERVICEBUS_PORT: String(bus),
        AZURITE_TABLE_PORT: String(tables),
        AZURITE_BLOB_PORT: String(blobs),
        ServiceBusConnection: '',
        AzureWebJobsStorage: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (text += c.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(code).toBe(1);
    expect(text).toContain('engagement "bad-one" dialMode.maxConcurrentCalls: Too big: expected number to be <=500');
    expect(text).toContain('engagement "bad-one" dialMode.mode: copilot dial mode is for AI-led engagements only');
    // Azurite (a child process) was stopped: its port is free again.
    expect(
      await fetch(`http://127.0.0.1:${tables}/`).then(
        () => 'listening',
        () => 'closed',
      ),
    ).toBe('closed');
  }, 60_000);
});

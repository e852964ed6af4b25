import chromium from '@sparticuz/chromium';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/freePort.js';
import { openAllDayEngagementFile } from '../support/appEnvironment.js';
import { watchOutput } from '../support/childOutput.js';

/**
 * The console in a real headless Chromium (from npm: @sparticuz/chromium) against `npm start`'s stack
 * (the compiled app, its own Azurite and broker, the simulator at 20x) during a simulated campaign.
 */
let host: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let base = '';

async function api(path: string, init?: RequestInit): Promise<Record<string, unknown>> {
  return (await (await fetch(`${base}${path}`, init)).json()) as Record<string, unknown>;
}

beforeAll(async () => {
  if (!existsSync('dist-dev/start.js')) throw new Error('dist-dev/ is missing: run "npm run build && npm run build:dev" (npm test does it first)');
  const [http, bus, tables] = await Promise.all([freePort(), freePort(), freePort()]);
  base = `http://127.0.0.1:${http}`;
  host = spawn(process.execPath, ['dist-dev/start.js'], {
    env: {
      ...process.env,
      ENGAGEMENTS_FILE: openAllDayEngagementFile(),
      FUNCTIONS_HTTP_PORT: String(http),
      SERVICEBUS_PORT: String(bus),
      AZURITE_TABLE_PORT: String(tables),
      ServiceBusConnection: '',
      AzureWebJobsStorage: '',
      PACING_SCHEDULE: '*/1 * * * * *',
      SIMULATOR_TIME_SCALE: '20',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [output] = [watchOutput(host)];
  const [executablePath] = await Promise.all([chromium.executablePath(), output.waitFor(/^Ready\./m, 45_000)]);
  browser = await playwright.launch({ executablePath, args: chromium.args, headless: true });
  // The container's POSIX locale (LANG=C) reaches Chromium as en-US@posix, which Intl (and uPlot's date axis) rejects.
  page = await browser.newPage({ viewport: { width: 1366, height: 768 }, locale: 'en-US' });
  // A campaign: 40 contacts, calls placed by the 1-second tick on the simulator.
  const events = Array.from({ length: 40 }, (_, i) => ({ eventId: `e${i}`, journeyId: 'j1', contactId: `c${i}`, phones: { mobile: `+1212555${1000 + i}` } }));
  await api('/api/engagements/open/journey-events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (host === undefined || host.exitCode !== null) return;
  const exited = new Promise<void>((r) => host?.once('exit', () => r()));
  host.kill('SIGINT');
  await exited;
});

describe('operator console in a browser', () => {
  it('GET / opens the console; the overview numbers change and match the status API', async () => {
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/api/console/');
    const ended = page.locator('tr[data-engagement="open"] [data-field="ended"]');
    await expect.poll(async () => Number(await ended.textContent()), { timeout: 30_000 }).toBeGreaterThan(0);
    const status = (await api('/api/engagements/open/status')) as { counts: { resultsLast24h: Record<string, number> } };
    const fromApi = Object.values(status.counts.resultsLast24h).reduce((a, b) => a + b, 0);
    // The page polls: it catches up with the API within a refresh.
    await expect.poll(async () => Number(await ended.textContent()), { timeout: 10_000 }).toBeGreaterThanOrEqual(fromApi);
    expect(await page.locator('tr[data-queue="q-all-day"] [data-field="winner"]').textContent()).toBe('open');
  }, 60_000);

  it('the engagement view charts dials with data, lists decisions, and pause changes the state', async () => {
    await page.click('tr[data-engagement="open"] a');
    const dials = page.locator('[data-chart="dials"]');
    await expect.poll(async () => Number(await dials.getAttribute('data-points')), { timeout: 90_000 }).toBeGreaterThan(0);
    expect(await page.locator('#decisions tbody tr').count()).toBeGreaterThan(0);
    await page.click('button[data-action="pause"]');
    await expect.poll(async () => await page.locator('#engagement-state [data-field="state"]').textContent(), { timeout: 15_000 }).toContain('paused');
    expect(((await api('/api/engagements/open/status')) as { state: { status: string } }).state.status).toBe('paused');
  }, 120_000);

  it('a compliance preview upload shows skip counts by rule', async () => {
    await page.goto(`${base}/api/console/#preview`);
    const dir = mkdtempSync(join(tmpdir(), 'preview-'));
    const file = join(dir, 'contacts.csv');
    writeFileSync(
      file,
      'contactId,firstName,mobile,timeZone,windowStart,windowEnd\n' +
        'a,Ada,+12125550100,UTC,,\n' +
        'b,Bo,,UTC,,\n' +
        'c,Cy,+12125550101,UTC,2020-01-01T00:00:00Z,2020-01-01T02:00:00Z\n',
    );
    await page.setInputFiles('#preview-file', file);
    await page.click('#preview-form button[type="submit"]');
    await page.waitForSelector('#preview-skips');
    expect(await page.locator('[data-field="summary"]').textContent()).toBe('3 contacts: 1 would be called, 2 skipped.');
    expect(await page.locator('tr[data-reason="no-callable-number"] td.num').textContent()).toBe('1');
    expect(await page.locator('tr[data-reason="no-window-requested-window"] td.num').textContent()).toBe('1');
  }, 30_000);

  it('a what-if returns figures for two settings side by side', async () => {
    await page.goto(`${base}/api/console/#what-if`);
    await page.fill('fieldset[data-scenario="0"] [name="listSize"]', '200');
    await page.check('fieldset[data-scenario="1"] [name="enabled"]');
    await page.fill('fieldset[data-scenario="1"] [name="listSize"]', '200');
    await page.click('#what-if-form button[type="submit"]');
    await page.waitForSelector('#what-if-table');
    const dials = await page.locator('td[data-field="Dials"]').allTextContents();
    expect(dials).toEqual(['200', '200']);
  }, 30_000);
});

/**
 * `npm run bench instances`: two app instances, each a Node process of its own running the compiled
 * product (dist/) under the local function host, on one Service Bus broker and one Azurite.
 *
 * 1. Intake: the same segment pages posted to one instance (the baseline), then split between two,
 *    with the same client concurrency, onto two identical engagements; prints contacts/s and the ratio.
 * 2. Pacing: several engagements on queues of their own, paced by both instances (simulator dialer);
 *    prints who held which engagement's lease over time, and counts every hand-over the instances
 *    logged against the (delivery, attempt) outcomes and calls in flight in Azurite: an attempt
 *    dialed twice would make the hand-overs outnumber the attempts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCase } from '../run.js';
import { startAzurite } from '../../dev/azurite.js';
import { startServiceBusBroker } from '../../dev/serviceBus/broker.js';
import { configWith } from '../../dev/serviceBus/config.js';
import { Tables } from '../../src/store/tables.js';
import { PacingLeaseStore } from '../../src/store/dispatch/pacingLeaseStore.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';
import { DeliveryStore } from '../../src/store/dispatch/deliveryStore.js';
import { benchEngagementFile, ndjsonPage } from '../support/intakeFixture.js';
import { benchQueueProperties } from '../support/brokerProcess.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAGES = Number(process.env['BENCH_INSTANCES_PAGES'] ?? 4);
const MEMBERS = Number(process.env['BENCH_INSTANCES_MEMBERS'] ?? 10_000);
const PACING_ENGAGEMENTS = Number(process.env['BENCH_INSTANCES_ENGAGEMENTS'] ?? 6);
const PACING_CONTACTS = Number(process.env['BENCH_INSTANCES_CONTACTS'] ?? 300);
const PACING_SECONDS = Number(process.env['BENCH_INSTANCES_PACING_SECONDS'] ?? 40);
const TABLE_PREFIX = 'inst';
const allDay = [{ start: '00:00', end: '24:00' }];
const days = { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay };

interface Instance {
  readonly name: string;
  readonly url: string;
  readonly lines: string[];
  stop(): Promise<void>;
}

/** Starts one app instance process and waits until it serves. */
function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'support', 'appInstance.ts')], {
    cwd: root,
    env: { ...process.env, ...env, BENCH_INSTANCE_NAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffered = '';
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) =>
      reject(
        new Error(
          `instance ${name} exited with ${code} before serving: ${lines
            .filter((l) => /^ {2}- |setting/i.test(l))
            .slice(0, 8)
            .join(' | ')}`,
        ),
      );
    child.once('exit', exited);
    child.stderr?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (line.startsWith('READY ')) {
          child.off('exit', exited);
          resolve({
            name,
            url: line.slice('READY '.length),
            lines,
            stop: () =>
              new Promise<void>((done) => {
                if (child.exitCode !== null) return done();
                child.once('exit', () => done());
                child.kill('SIGTERM');
              }),
          });
        }
      }
    });
  });
}

/** Requests answered 503 (a dependency slow under load) and sent again, as a client is told to. */
let retried = 0;
/** Skip reasons summed over a run's answers, so the accepted count is explained. */
let skippedTotals: Record<string, number> = {};

async function postPage(instance: Instance, engagementId: string, page: number, body: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${instance.url}/api/engagements/${engagementId}/segment-members?segmentId=s&exportRunId=r&page=${page}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    const json = (await response.json()) as { accepted?: number; skipped?: Record<string, number> };
    if (response.status === 503 && attempt < 5) {
      retried++;
      await new Promise((r) => setTimeout(r, Number(response.headers.get('retry-after') ?? 1) * 1000));
      continue;
    }
    if (response.status !== 202) throw new Error(`${instance.name}: page ${page} of ${engagementId} answered ${response.status}: ${JSON.stringify(json)}`);
    for (const [reason, count] of Object.entries(json.skipped ?? {})) if (count > 0) skippedTotals[reason] = (skippedTotals[reason] ?? 0) + count;
    if (process.env['BENCH_INSTANCES_VERBOSE'] === '1')
      console.log(`${instance.name} ${engagementId} page ${page}: accepted ${json.accepted}, skipped ${JSON.stringify(json.skipped)}`);
    return json.accepted ?? 0;
  }
}

/** Posts `pages` over `targets` (page i to target i mod n), `concurrency` requests at a time in all; returns contacts accepted and ms. */
async function intakeRun(
  targets: readonly Instance[],
  engagementId: string,
  pages: readonly string[],
  concurrency: number,
): Promise<{ accepted: number; ms: number }> {
  let next = 0;
  let accepted = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < pages.length; i = next++) {
        const target = targets[i % targets.length];
        const body = pages[i];
        if (target === undefined || body === undefined) continue;
        // Not `accepted += await ...`: that reads `accepted` before the await and loses the other worker's pages.
        const pageAccepted = await postPage(target, engagementId, i, body);
        accepted += pageAccepted;
      }
    }),
  );
  return { accepted, ms: performance.now() - started };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function pacingFile(): unknown {
  const ids = Array.from({ length: PACING_ENGAGEMENTS }, (_, i) => `p${i + 1}`);
  return {
    queues: ids.map((id, q) => ({
      name: `queue-${id}`,
      operatingHours: { timeZone: 'UTC', days },
      representatives: Array.from({ length: 4 }, (_, r) => ({ userId: `00000000-0000-4000-8000-${String(q * 100 + r + 1).padStart(12, '0')}` })),
    })),
    engagements: ids.map((id) => ({
      id,
      name: id,
      workstream: 'ws',
      channel: 'voice',
      routing: { primaryQueue: `queue-${id}` },
      type: 'representative-led',
      dialMode: { mode: 'progressive', maxCallsPerRepresentative: 2 },
      phoneOrder: ['mobile'],
      quietHours: { mobile: [] },
      legalHours: { start: '00:00', end: '24:00' },
      timeZonePolicy: 'utc',
      operatingHours: { allowOutsideQueueHours: true },
    })),
  };
}

function pacingPage(engagement: number): string {
  const lines: string[] = [];
  for (let i = 0; i < PACING_CONTACTS; i++) {
    const n = engagement * 10_000 + i;
    lines.push(JSON.stringify({ contactId: `p${engagement}-${i}`, phones: { mobile: `+1212${String(2_000_000 + n).padStart(7, '0')}` } }));
  }
  return lines.join('\n');
}

const instances: BenchCase = {
  name: 'instances',
  description: `two app processes on one broker and Azurite: intake of ${PAGES} x ${MEMBERS.toLocaleString('en-US')} members on one vs two; pacing ${PACING_ENGAGEMENTS} engagements on both`,
  async run() {
    const build = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('the product does not build (tsc -p tsconfig.json)');

    const azurite = await startAzurite({ blob: true });
    const broker = await startServiceBusBroker({ port: 0, config: configWith([{ Name: 'contact-batches', Properties: benchQueueProperties }]) });
    const dir = mkdtempSync(join(tmpdir(), 'bench-instances-'));
    const intakeEngagement = benchEngagementFile.engagements[0];
    writeFileSync(
      join(dir, 'intake.json'),
      JSON.stringify({ ...benchEngagementFile, engagements: ['bench-1', 'bench-2', 'bench-3'].map((id) => ({ ...intakeEngagement, id })) }),
    );
    writeFileSync(join(dir, 'pacing.json'), JSON.stringify(pacingFile()));
    const common = {
      ServiceBusConnection: broker.connectionString,
      AzureWebJobsStorage: azurite.tablesConnectionString,
      SegmentExportsStorage: azurite.connectionString ?? azurite.tablesConnectionString,
      TABLE_PREFIX,
      CONTACT_BATCHES_QUEUE: 'contact-batches',
      DIALER_BACKEND: 'simulator',
      FUNCTIONS_WORKER_RUNTIME: 'node',
      INTAKE_MAX_PAGE_SIZE: String(Math.max(MEMBERS, PACING_CONTACTS)),
      SEGMENT_EXPORTS_CONTAINER: 'customer-insights',
      JOURNEY_OUTBOX_SCHEDULE: '0 0 0 1 1 *',
    };
    const running: Instance[] = [];
    try {
      if (process.env['BENCH_INSTANCES_ONLY'] !== 'pacing') {
        // Intake: pacing off (a yearly schedule), so the instances only take pages and store batches.
        const intakeEnv = { ...common, ENGAGEMENTS_FILE: join(dir, 'intake.json'), PACING_SCHEDULE: '0 0 0 1 1 *' };
        const [a, b] = await Promise.all([startInstance('a', intakeEnv), startInstance('b', intakeEnv)]);
        if (a === undefined || b === undefined) throw new Error('instances did not start');
        running.push(a, b);
        const pages = Array.from({ length: PAGES }, (_, p) => ndjsonPage(p * MEMBERS, MEMBERS, { distinctPhones: true }));
        // Warm-up: each instance's first request opens its tables and connections; not measured.
        const warm = ndjsonPage(10_000_000, 200);
        for (const [i, target] of [a, b].entries()) for (const id of ['bench-1', 'bench-2', 'bench-3']) await postPage(target, id, 1_000 + i, warm);
        const drained = () => until(() => broker.stats('contact-batches').active === 0, 300_000);
        // One instance, two, then one again: the load of this shared machine drifts, and the two
        // baselines show by how much.
        const measure = async (targets: readonly Instance[], engagementId: string) => {
          retried = 0;
          skippedTotals = {};
          const run = await intakeRun(targets, engagementId, pages, 2);
          const again = retried;
          await drained();
          return { ...run, retried: again, skipped: JSON.stringify(skippedTotals) };
        };
        const one = await measure([a], 'bench-1');
        const two = await measure([a, b], 'bench-2');
        const oneAgain = await measure([a], 'bench-3');
        const total = PAGES * MEMBERS;
        const rate = (r: { ms: number }) => Math.round(total / (r.ms / 1000)).toLocaleString('en-US');
        const line = (label: string, r: { ms: number; accepted: number; retried: number; skipped: string }) =>
          `${label} ${total.toLocaleString('en-US')} members in ${(r.ms / 1000).toFixed(1)} s, ${rate(r)} contacts/s, accepted ${r.accepted}, skipped ${r.skipped}, pages sent again after a 503: ${r.retried}`;
        console.log(line('intake, one instance (baseline):', one));
        console.log(line('intake, two instances:          ', two));
        console.log(line('intake, one instance again:     ', oneAgain));
        const baselineMs = (one.ms + oneAgain.ms) / 2;
        console.log(
          `two instances vs one: ${(baselineMs / two.ms).toFixed(2)}x (against the first baseline ${(one.ms / two.ms).toFixed(2)}x, the second ${(oneAgain.ms / two.ms).toFixed(2)}x)`,
        );
        await Promise.all(running.splice(0).map((i) => i.stop()));
      }

      // Pacing: both instances pace the engagements; the lease rows say who paces what.
      const pacingEnv = {
        ...common,
        ENGAGEMENTS_FILE: join(dir, 'pacing.json'),
        PACING_SCHEDULE: '*/1 * * * * *',
        PACING_LEASE_SECONDS: '10',
        // Real time: leases and heartbeats compare instants written by different processes, and a sped-up
        // simulator clock starts from each process's own start. Short calls instead, so representatives turn over.
        SIMULATOR_TIME_SCALE: '1',
        SIMULATOR_PROFILE: JSON.stringify({
          liveAnswer: 0.8,
          answeringMachine: 0.1,
          busy: 0.05,
          invalidAddress: 0,
          callFailed: 0,
          liveRingSeconds: { mean: 2, sigma: 0.3 },
          machineSeconds: { mean: 3, sigma: 0.3 },
          handleSeconds: { mean: 6, sigma: 0.3 },
        }),
      };
      const [pa, pb] = await Promise.all([startInstance('a', pacingEnv), startInstance('b', pacingEnv)]);
      if (pa === undefined || pb === undefined) throw new Error('instances did not start');
      running.push(pa, pb);
      const ids = Array.from({ length: PACING_ENGAGEMENTS }, (_, i) => `p${i + 1}`);
      await Promise.all(ids.map((id, i) => postPage(i % 2 === 0 ? pa : pb, id, 0, pacingPage(i + 1))));
      const tables = new Tables({ connectionString: azurite.tablesConnectionString }, TABLE_PREFIX);
      const leases = new PacingLeaseStore(tables, 'bench-observer');
      const owners = new Map<string, Map<string, number>>();
      let moves = 0;
      // Owners are per process (`local-<uuid>`): named here in the order they are first seen.
      const labels = new Map<string, string>();
      const last = new Map<string, string>();
      const end = Date.now() + PACING_SECONDS * 1000;
      while (Date.now() < end) {
        const { leases: rows } = await leases.list(Date.now());
        for (const row of rows) {
          if (row.expiresAt <= Date.now()) continue;
          const byOwner = owners.get(row.group) ?? new Map<string, number>();
          owners.set(row.group, byOwner);
          if (!labels.has(row.owner)) labels.set(row.owner, `instance ${labels.size + 1}`);
          const who = labels.get(row.owner) ?? row.owner;
          byOwner.set(who, (byOwner.get(who) ?? 0) + 1);
          if (last.get(row.group) !== undefined && last.get(row.group) !== who) moves++;
          last.set(row.group, who);
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }
      await Promise.all(running.splice(0).map((i) => i.stop()));

      for (const instance of [pa, pb]) writeFileSync(join(dir, `pacing-${instance.name}.log`), instance.lines.join('\n'));
      console.log(`instance logs: ${join(dir, 'pacing-a.log')}, ${join(dir, 'pacing-b.log')}`);
      const handOvers = { a: 0, b: 0 };
      let reHanded = 0;
      for (const instance of [pa, pb]) {
        for (const line of instance.lines) {
          const m = /pacing tick: dialed (\d+), rejected \d+, re-handed (\d+)/.exec(line);
          if (m === null) continue;
          handOvers[instance.name as 'a' | 'b'] += Number(m[1]);
          reHanded += Number(m[2]);
        }
      }
      const outcomes = new OutcomeStore(tables, () => Date.now());
      const deliveries = new DeliveryStore(tables);
      const attempts = new Map<string, number>();
      let inFlight = 0;
      for (const id of ids) {
        for (let page = await outcomes.since(id, 0); ;) {
          for (const e of page.events) {
            if (e.result === 'Expired' || e.result === 'Cancelled') continue;
            const key = `${id}/${e.deliveryId}#${e.attempt}`;
            attempts.set(key, (attempts.get(key) ?? 0) + 1);
          }
          if (page.events.length === 0 || page.lastRowKey === undefined) break;
          page = await outcomes.after(id, page.lastRowKey);
        }
        inFlight += (await deliveries.inFlight(id)).filter((row) => row.state === 'submitted').length;
      }
      const twice = [...attempts.values()].filter((n) => n > 1).length;
      console.log(
        `pacing ${PACING_ENGAGEMENTS} engagements (${PACING_CONTACTS} contacts each) on two instances for ${PACING_SECONDS} s; who held each lease (seconds seen):`,
      );
      for (const [group, byOwner] of [...owners].sort()) console.log(`  ${group.padEnd(10)} ${[...byOwner].map(([o, n]) => `${o}: ${n}`).join(', ')}`);
      const held = new Map<string, number>();
      for (const [, who] of last) held.set(who, (held.get(who) ?? 0) + 1);
      console.log(`  at the end: ${[...held].map(([o, n]) => `${o} holds ${n}`).join(', ')}; lease moves seen: ${moves}`);
      // Each attempt is handed over once: by the tick that claimed it, or (its claim left behind by a lease
      // lost mid-tick) re-handed by the next holder. An attempt handed over twice would make these outnumber the attempts.
      const handed = handOvers.a + handOvers.b + reHanded;
      console.log(
        `hand-overs logged: a ${handOvers.a}, b ${handOvers.b}, claims left behind and re-handed ${reHanded} = ${handed}; attempts in Azurite: ${attempts.size} with an outcome + ${inFlight} in flight = ${attempts.size + inFlight}; outcomes recorded twice: ${twice}; ${handed === attempts.size + inFlight && twice === 0 ? 'no (delivery, attempt) dialed twice' : 'MISMATCH: some attempt was handed over twice or lost'}`,
      );
    } finally {
      await Promise.all(running.map((i) => i.stop()));
      await broker.stop();
      await azurite.stop();
    }
  },
};

export default instances;

/**
 * Memory of a 1,000,000-contact segment on one instance, measured on the app's own process.
 *
 * The intake runs in a child process that loads the compiled product (`bench/tsconfig.memory.json`
 * compiles `src/` and `bench/support/memoryIntakeChild.ts` into `dist-bench/`; no tsx, no other bench
 * case), the Service Bus broker in another (`dev/serviceBus/main.ts`, one fresh broker per scenario so
 * its queue starts empty), and this process generates the bytes and streams them to the child over
 * HTTP. The child's peak RSS is the kernel's high-water mark for it.
 *
 * Scenarios, each in a fresh child: ten 100,000-member NDJSON pages through the segment-members door's
 * code (`acceptSegmentPage`), peak after the first page (100k) and after the tenth (1M); and one
 * segment export file of 100k rows and one of 1M rows through `processExportFile`. Baselines: a bare
 * `node` process, and the child with the product and SDKs loaded and the sender connected, before any
 * contact. Table Storage stores are stubbed in the child (see there).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BenchCase } from '../run.js';
import { memberLine } from '../support/intakeFixture.js';

const PAGES = Number(process.env['BENCH_MEMORY_PAGES'] ?? 10);
const PAGE_SIZE = Number(process.env['BENCH_MEMORY_PAGE_SIZE'] ?? 100_000);
const SCENARIOS = new Set((process.env['BENCH_MEMORY_SCENARIOS'] ?? 'whole,pages,export').split(','));
const GOAL_MIB = 256;
/** Node/V8 arguments for the intake child, e.g. `--max-old-space-size=128` (in Azure: the `languageWorkers__node__arguments` app setting). */
const CHILD_NODE_ARGS = (process.env['BENCH_CHILD_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

interface Usage {
  readonly rssKiB: number;
  readonly peakKiB: number;
  /** V8 heap in use and reserved, and memory outside it (buffers), at the answer. */
  readonly heapKiB: number;
  readonly heapTotalKiB: number;
  readonly externalKiB: number;
}

/** Starts a dev/ process and resolves with the child and the first stdout line that `match` accepts. */
function startChild(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  match: (line: string) => string | undefined,
): Promise<{ child: ChildProcess; value: string }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const value = match(line);
      if (value !== undefined) resolve({ child, value });
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

function startBroker() {
  return startChild(['--import', 'tsx', 'dev/serviceBus/main.ts'], { SERVICEBUS_PORT: '0' }, (line) => {
    const at = line.indexOf('ServiceBusConnection=');
    return at >= 0 ? line.slice(at + 'ServiceBusConnection='.length) : undefined;
  });
}

function startIntake(connectionString: string) {
  return startChild(
    [...CHILD_NODE_ARGS, 'dist-bench/bench/support/memoryIntakeChild.js'],
    { BENCH_SERVICEBUS: connectionString, NODE_ENV: 'production' },
    (line) => (line.startsWith('listening ') ? line.slice('listening '.length) : undefined),
  );
}

/** Sends a request to the child, the body streamed from `body`; resolves with the parsed JSON answer. */
async function call<T>(port: string, path: string, body?: Iterable<string>): Promise<T> {
  const req = request({ host: '127.0.0.1', port: Number(port), path, method: body === undefined ? 'GET' : 'POST' });
  const answered = once(req, 'response') as Promise<[import('node:http').IncomingMessage]>;
  // The child may answer (an error) before the body is all sent: its answer says why, not the broken pipe.
  const sent = body === undefined ? (req.end(), Promise.resolve()) : pipeline(Readable.from(body), req);
  const [response] = await Promise.race([answered, sent.then(() => answered)]);
  await sent.catch(() => undefined);
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T & { error?: string };
  if (response.statusCode !== 200) throw new Error(`${path}: ${response.statusCode} ${parsed.error ?? ''}`);
  return parsed;
}

/** Members `[first, first + count)` as NDJSON, 1,000 lines a chunk, generated as they are sent. */
function* memberLines(first: number, count: number): Generator<string> {
  const lines: string[] = [];
  for (let i = first; i < first + count; i++) {
    lines.push(memberLine(i, { distinctPhones: true }));
    if (lines.length === 1000 || i === first + count - 1) {
      yield `${lines.join('\n')}\n`;
      lines.length = 0;
    }
  }
}

async function compileChild(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const child = spawn(process.execPath, [tsc, '-p', 'bench/tsconfig.memory.json'], { stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`compiling the intake child failed (${code})`);
}

async function bareNodePeak(): Promise<number> {
  const { value } = await startChild(['-e', 'console.log("peak " + process.resourceUsage().maxRSS)'], {}, (line) =>
    line.startsWith('peak ') ? line.slice(5) : undefined,
  );
  return Number(value);
}

/** One scenario on a fresh broker and a fresh intake child. */
async function withIntake<T>(run: (port: string, baseline: Usage) => Promise<T>): Promise<T> {
  const broker = await startBroker();
  try {
    const intake = await startIntake(broker.value);
    try {
      return await run(intake.value, await call<Usage>(intake.value, '/rss'));
    } finally {
      await stop(intake.child);
    }
  } finally {
    await stop(broker.child);
  }
}

interface Outcome {
  readonly baseline: Usage;
  readonly peak100k: number;
  readonly peakAll: number;
  readonly contacts: number;
  readonly accepted: number;
  readonly seconds: number;
}

async function pagesScenario(): Promise<Outcome> {
  return withIntake(async (port, baseline) => {
    const started = performance.now();
    let accepted = 0;
    let peak100k = 0;
    let peakAll = 0;
    for (let page = 0; page < PAGES; page++) {
      const answer = await call<Usage & { result: { accepted: number } }>(port, `/page?n=${page}`, memberLines(page * PAGE_SIZE, PAGE_SIZE));
      accepted += answer.result.accepted;
      if (page === 0) peak100k = answer.peakKiB;
      peakAll = answer.peakKiB;
      console.log(
        `  page ${page + 1}/${PAGES}: accepted ${answer.result.accepted}, peak RSS so far ${mib(answer.peakKiB)}, RSS now ${mib(answer.rssKiB)} (heap ${mib(answer.heapKiB)} used of ${mib(answer.heapTotalKiB)}, external ${mib(answer.externalKiB)})`,
      );
    }
    return { baseline, peak100k, peakAll, contacts: PAGES * PAGE_SIZE, accepted, seconds: (performance.now() - started) / 1000 };
  });
}

/** The baseline: one page read the former way (all members parsed into one array, handed over whole). */
async function wholePageScenario(): Promise<{ baseline: Usage; peak: number }> {
  return withIntake(async (port, baseline) => {
    const answer = await call<Usage & { result: { accepted: number } }>(port, '/page-whole?n=0', memberLines(0, PAGE_SIZE));
    return { baseline, peak: answer.peakKiB };
  });
}

async function exportScenario(dir: string, rows: number): Promise<{ baseline: Usage; peak: number; accepted: number; seconds: number }> {
  const path = join(dir, `segment-${rows}.ndjson`);
  await pipeline(Readable.from(memberLines(0, rows)), createWriteStream(path));
  return withIntake(async (port, baseline) => {
    const started = performance.now();
    const answer = await call<Usage & { result: { progress: { accepted: number } } }>(port, `/export?path=${encodeURIComponent(path)}`);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `  export file of ${rows.toLocaleString('en-US')} rows: accepted ${answer.result.progress.accepted}, peak RSS ${mib(answer.peakKiB)} in ${seconds.toFixed(0)} s`,
    );
    await rm(path, { force: true });
    return { baseline, peak: answer.peakKiB, accepted: answer.result.progress.accepted, seconds };
  });
}

const memory: BenchCase = {
  name: 'memory',
  description: `peak RSS of the intake process (compiled product, its own process) for a ${(PAGES * PAGE_SIZE).toLocaleString('en-US')}-contact segment: ${PAGES} pages, and one export file`,
  async run() {
    console.log('compiling the intake child (dist-bench/) ...');
    await compileChild();
    const bare = await bareNodePeak();
    console.log(`bare node process (baseline)                  ${mib(bare)}`);
    const total = (PAGES * PAGE_SIZE).toLocaleString('en-US');
    const verdict = (kib: number) => (kib < GOAL_MIB * 1024 ? `under the ${GOAL_MIB} MiB goal` : `OVER the ${GOAL_MIB} MiB goal`);
    console.log(`intake child's node arguments: ${CHILD_NODE_ARGS.length === 0 ? '(none: V8 defaults)' : CHILD_NODE_ARGS.join(' ')}`);
    let wholePeak: number | undefined;
    if (SCENARIOS.has('whole')) {
      const whole = await wholePageScenario();
      wholePeak = whole.peak;
      console.log(`one ${PAGE_SIZE.toLocaleString('en-US')}-member page held whole (former reader; baseline) ${mib(whole.peak)} peak`);
    }
    const vsWhole = (kib: number) => (wholePeak === undefined ? '' : `; ${(kib / wholePeak).toFixed(2)}x the page held whole`);
    if (SCENARIOS.has('pages')) {
      console.log(`${PAGES} pages of ${PAGE_SIZE.toLocaleString('en-US')} (segment-members door, NDJSON, every number distinct):`);
      const pages = await pagesScenario();
      console.log(
        `intake child loaded, sender connected (baseline) ${mib(pages.baseline.rssKiB)} (heap ${mib(pages.baseline.heapKiB)}, external ${mib(pages.baseline.externalKiB)})`,
      );
      console.log(`peak RSS after ${PAGE_SIZE.toLocaleString('en-US')} contacts              ${mib(pages.peak100k)}${vsWhole(pages.peak100k)}`);
      console.log(
        `peak RSS after ${total} contacts            ${mib(pages.peakAll)}  ${(pages.peakAll / pages.peak100k).toFixed(2)}x the first page's peak; ${verdict(pages.peakAll)}; ${pages.accepted} accepted in ${pages.seconds.toFixed(0)} s (${Math.round(pages.accepted / pages.seconds)}/s)`,
      );
    }
    if (SCENARIOS.has('export')) {
      const dir = await mkdtemp(join(tmpdir(), 'bench-memory-'));
      try {
        console.log(`one segment export file (NDJSON rows, pages of ${process.env['BENCH_EXPORT_PAGE_SIZE'] ?? '100,000'} rows):`);
        const small = await exportScenario(dir, PAGE_SIZE);
        const large = await exportScenario(dir, PAGES * PAGE_SIZE);
        console.log(`intake child loaded (baseline)                ${mib(large.baseline.rssKiB)}`);
        console.log(`peak RSS, export file of ${PAGE_SIZE.toLocaleString('en-US')} rows          ${mib(small.peak)}`);
        console.log(
          `peak RSS, export file of ${total} rows        ${mib(large.peak)}  ${(large.peak / small.peak).toFixed(2)}x the ${PAGE_SIZE.toLocaleString('en-US')}-row file's; ${verdict(large.peak)}; ${large.accepted} accepted in ${large.seconds.toFixed(0)} s (${Math.round(large.accepted / large.seconds)}/s)`,
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  },
};

export default memory;

/**
 * `npm run bench [case ...]`: runs the benchmark cases in `bench/cases/` (all, or those named) one
 * after another and prints their figures. Each case measures its own baseline in the same run and
 * prints ratios against it, so figures from different machines can be compared by ratio.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchCase {
  /** Short name used on the command line (`npm run bench broker`). */
  readonly name: string;
  readonly description: string;
  run(): Promise<void>;
}

const casesDir = join(dirname(fileURLToPath(import.meta.url)), 'cases');

async function main(): Promise<void> {
  const wanted = new Set(process.argv.slice(2));
  const all = (await readdir(casesDir)).filter((f) => f.endsWith('.ts')).sort();
  // Only the named cases are loaded: a case's imports can change the process for the others (nock,
  // loaded by the Dynamics 365 and bot cases, intercepts every HTTP request, Azurite's included).
  const named = all.filter((f) => wanted.has(basename(f, '.ts')));
  const files = wanted.size === 0 || named.length < wanted.size ? all : named;
  const cases: BenchCase[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(casesDir, file)).href)) as { default: BenchCase };
    cases.push(mod.default);
  }
  const selected = wanted.size === 0 ? cases : cases.filter((c) => wanted.has(c.name));
  if (selected.length === 0) {
    console.error(`no bench case named ${[...wanted].join(', ')}; known: ${cases.map((c) => c.name).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  console.log(`node ${process.version} on ${process.platform}/${process.arch}; cases: ${selected.map((c) => c.name).join(', ')}`);
  for (const c of selected) {
    console.log(`\n== ${c.name}: ${c.description} (${basename(c.name)})`);
    const started = performance.now();
    await c.run();
    console.log(`-- ${c.name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

await main();

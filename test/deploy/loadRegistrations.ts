import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { DeploymentFacts, Registration } from './registrationCheck.js';
import { functionListTable, httpApiTable } from './readmeTables.js';

/**
 * The registrations of the compiled app, as the Functions host indexes them: `printRegistrations.ts` in
 * a fresh Node process (the one running the tests, Node 22) with tsx for the stand-in's TypeScript.
 */
export function loadRegistrations(): { entries: string[]; functions: Registration[] } {
  if (!existsSync('dist/functions')) throw new Error('dist/ is missing: run "npm run build" (npm test does it first)');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/deploy/printRegistrations.ts'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return JSON.parse(out) as { entries: string[]; functions: Registration[] };
}

/** What the registrations are checked against: the README, local.settings.sample.json, the queues, host.json. */
export function loadDeploymentFacts(): DeploymentFacts {
  const readme = readFileSync('README.md', 'utf8');
  const sample = JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> };
  const bus = JSON.parse(readFileSync('config/servicebus.json', 'utf8')) as { UserConfig: { Namespaces: { Queues: { Name: string }[] }[] } };
  const host = JSON.parse(readFileSync('host.json', 'utf8')) as { extensions?: { http?: { routePrefix?: string } } };
  return {
    functionList: functionListTable(readme),
    httpApi: httpApiTable(readme),
    sampleSettings: sample.Values,
    queues: new Set(bus.UserConfig.Namespaces.flatMap((n) => n.Queues.map((q) => q.Name))),
    routePrefix: host.extensions?.http?.routePrefix ?? 'api',
  };
}

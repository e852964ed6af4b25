import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeViolations, findViolations, isUnder, readSources, type ImportRule, type SourceFiles } from './importGraph.js';

// The import direction of docs/layout.md, checked on the sources rather than trusted to review.

/** The domain and the pure decisions built on it: no adapter, shell, or vendor SDK, not even a type. */
const DOMAIN_FOLDERS = ['src/pacing', 'src/planning', 'src/contacts', 'src/engagement'];
const VENDOR_SDK = /^@(azure|microsoft)\//;

const domainImportsOnlyDomain: ImportRule = {
  appliesTo: (file) => DOMAIN_FOLDERS.some((folder) => isUnder(file, folder)),
  // An allowlist: an adapter folder added later is outside the domain without anyone listing it here.
  allows: ({ specifier, target }) =>
    target === undefined ? !VENDOR_SDK.test(specifier) : target === 'src/errors.ts' || DOMAIN_FOLDERS.some((folder) => isUnder(target, folder)),
};

/** The local stack (function host, Service Bus broker, Azurite launcher, stand-ins): development tooling only. */
const LOCAL_STACK = 'dev';

const productNeverImportsLocalStack: ImportRule = {
  appliesTo: (file) => isUnder(file, 'src') || isUnder(file, 'functions'),
  allows: ({ target }) => target === undefined || !isUnder(target, LOCAL_STACK),
};

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

function governed(files: SourceFiles, rule: ImportRule): string[] {
  return [...files.keys()].filter(rule.appliesTo);
}

function pairs(files: SourceFiles, rule: ImportRule): string[] {
  return findViolations(files, rule).map((v) => `${v.file} -> ${v.specifier}`);
}

describe('import boundaries', () => {
  const sources = readSources(projectRoot, ['functions', 'src']);

  it('pacing, planning, contacts and engagement import only each other, src/errors.ts and non-Azure packages', () => {
    // A rule that governs no file passes vacuously; make sure the folders were found.
    expect(governed(sources, domainImportsOnlyDomain).length).toBeGreaterThan(0);
    const violations = findViolations(sources, domainImportsOnlyDomain);
    expect(violations, `domain and pure code import outside the domain:\n${describeViolations(violations)}`).toEqual([]);
  });

  it('no product module (functions/, src/) imports the local stack (dev/)', () => {
    expect(governed(sources, productNeverImportsLocalStack).length).toBeGreaterThan(0);
    const violations = findViolations(sources, productNeverImportsLocalStack);
    expect(violations, `product modules import the local stack:\n${describeViolations(violations)}`).toEqual([]);
  });
});

describe('the boundary rules can fail', () => {
  const synthetic: SourceFiles = new Map([
    [
      'src/pacing/paceSomething.ts',
      [
        "import type { DialerPort } from '../dialers/dialerPort.js';",
        "export { tableClient } from '../store/tables.js';",
        "export type ServiceBus = typeof import('@azure/service-bus');",
        "const later = () => import('../dispatch/outcomeStore.js');",
        "import { z } from 'zod';",
        "import type { CallEvent } from '../contacts/callEvent.js';",
        "import { UserError } from '../errors.js';",
        "import { planDeliveries } from '../planning/planDeliveries.js';",
      ].join('\n'),
    ],
    [
      'src/dispatch/tick.ts',
      ["import type { Broker } from '../../dev/serviceBus/broker.js';", "import { planDeliveries } from '../planning/planDeliveries.js';"].join('\n'),
    ],
    ['functions/pacingTick.ts', "import '../dev/functionHost.js';\nimport { app } from '@azure/functions';"],
    ['dev/start.ts', "import { startAzurite } from './azurite.js';\nimport { planDeliveries } from '../src/planning/planDeliveries.js';"],
    ['dev/azurite.ts', ''],
    ['src/planning/planDeliveries.ts', ''],
    ['src/contacts/callEvent.ts', ''],
    ['src/errors.ts', ''],
  ]);

  it('reports type-only, re-exported, type-query and dynamic imports of adapters and Azure packages from pure code', () => {
    expect(pairs(synthetic, domainImportsOnlyDomain)).toEqual([
      'src/pacing/paceSomething.ts -> ../dialers/dialerPort.js',
      'src/pacing/paceSomething.ts -> ../store/tables.js',
      'src/pacing/paceSomething.ts -> @azure/service-bus',
      'src/pacing/paceSomething.ts -> ../dispatch/outcomeStore.js',
    ]);
  });

  it('reports product imports of dev/, but not the local stack importing itself or the product', () => {
    expect(pairs(synthetic, productNeverImportsLocalStack)).toEqual([
      'src/dispatch/tick.ts -> ../../dev/serviceBus/broker.js',
      'functions/pacingTick.ts -> ../dev/functionHost.js',
    ]);
  });
});

describe('the deployment package', () => {
  it('leaves out the local stack, its build output, tests and benchmarks (.funcignore)', () => {
    const ignored = readFileSync(join(projectRoot, '.funcignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      // Core Tools matches each pattern from the start of the path; a leading slash says so for gitignore too.
      .map((line) => line.replace(/^\//, ''));
    expect(ignored).toEqual(expect.arrayContaining(['dev/', 'dist-dev/', 'test/', 'bench/']));
  });

  it('builds the product without the local stack (tsconfig.json includes only functions/ and src/)', () => {
    const config = JSON.parse(readFileSync(join(projectRoot, 'tsconfig.json'), 'utf8')) as { include: string[] };
    expect(config.include.every((pattern) => pattern.startsWith('functions/') || pattern.startsWith('src/'))).toBe(true);
  });
});

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

/** Both homes of the local stack: `src/local/` today, a top-level `dev/` once it moves. */
const LOCAL_STACK_FOLDERS = ['src/local', 'dev'];

const productNeverImportsLocalStack: ImportRule = {
  appliesTo: (file) => (isUnder(file, 'src') || isUnder(file, 'functions')) && !LOCAL_STACK_FOLDERS.some((folder) => isUnder(file, folder)),
  allows: ({ target }) => target === undefined || !LOCAL_STACK_FOLDERS.some((folder) => isUnder(target, folder)),
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

  it('no product module imports the local stack (src/local/ or dev/)', () => {
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
      [
        "import { startAzurite } from '../local/azurite.js';",
        "import type { Broker } from '../../dev/serviceBus/broker.js';",
        "import { planDeliveries } from '../planning/planDeliveries.js';",
      ].join('\n'),
    ],
    ['functions/pacingTick.ts', "import '../dev/functionHost.js';\nimport { app } from '@azure/functions';"],
    ['src/local/start.ts', "import { startAzurite } from './azurite.js';\nimport { disposeRuntime } from '../runtime.js';"],
    ['src/local/azurite.ts', ''],
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

  it('reports product imports of src/local/ and of a top-level dev/, but not the local stack importing itself', () => {
    expect(pairs(synthetic, productNeverImportsLocalStack)).toEqual([
      'src/dispatch/tick.ts -> ../local/azurite.js',
      'src/dispatch/tick.ts -> ../../dev/serviceBus/broker.js',
      'functions/pacingTick.ts -> ../dev/functionHost.js',
    ]);
  });
});

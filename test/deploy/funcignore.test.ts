import { execFileSync } from 'node:child_process';
import { existsSync, globSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleFiles } from '../../src/management/consoleAssets.js';

/**
 * What `.funcignore` keeps in the deployment package, under the two readings it gets:
 * - Azure Functions Core Tools (`func azure functionapp publish`): each pattern is a regular expression
 *   anchored at the start of the file's path relative to the app root, not at its end; `*` matches
 *   within one folder, `**` across folders; a leading `/` is dropped; a `!` pattern that matches keeps
 *   the file whatever else matched (its documented behaviour, Azure/azure-functions-core-tools#2701 and
 *   #1745, not gitignore's);
 * - gitignore syntax (azd and other packagers), through the `ignore` package.
 */
function coreToolsFilter(funcignore: string): (path: string) => boolean {
  const positive: string[] = [];
  const negative: string[] = [];
  for (const raw of funcignore.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const isNegative = line.startsWith('!');
    if (isNegative) line = line.slice(1);
    if (line.startsWith('/')) line = line.slice(1);
    const pattern = line
      .replace(/[-[\]/{}()+?.\\^$|]/g, '\\$&')
      .replace(/\*\*/g, '(.+)')
      .replace(/\*/g, '([^\\/]+)');
    (isNegative ? negative : positive).push(pattern);
  }
  const anyOf = (patterns: string[]) => (patterns.length === 0 ? /$^/ : new RegExp(`^((${patterns.sort().join(')|(')}))`));
  const keep = anyOf(negative);
  const drop = anyOf(positive);
  return (path) => keep.test(path) || !drop.test(path);
}

// `ignore` is CommonJS whose typings declare an ES default export; required as Node loads it.
type IgnoreFactory = () => { add(patterns: string): { ignores(path: string): boolean } };
const ignore = createRequire(import.meta.url)('ignore') as IgnoreFactory;

function gitignoreFilter(funcignore: string): (path: string) => boolean {
  const matcher = ignore().add(funcignore);
  return (path) => !matcher.ignores(path);
}

/** The project's files after `npm run build`, as the publish step walks them (node_modules apart), plus local leftovers. */
function projectFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const built = [...globSync('dist/**/*'), ...globSync('dist-dev/**/*')].filter((f) => !existsSync(`${f}/.`));
  const leftovers = ['local.settings.json', '.azurite/table.db', '__azurite_db_table__.json', 'coverage/index.html', '.vscode/settings.json'];
  return [...new Set([...tracked, ...built, ...leftovers])].sort();
}

/** What the package must hold: the compiled app, the console, engagement files, host and package metadata. */
function belongsInPackage(path: string): boolean {
  if (path.startsWith('dist/')) return true;
  if (path.startsWith('console/')) return true;
  if (path.startsWith('config/')) return path !== 'config/servicebus.json';
  return ['host.json', 'package.json', 'package-lock.json'].includes(path);
}

const funcignore = readFileSync('.funcignore', 'utf8');
const readings = [
  ['Core Tools', coreToolsFilter(funcignore)],
  ['gitignore', gitignoreFilter(funcignore)],
] as const;

describe('.funcignore', () => {
  it('needs a build to check against', () => {
    expect(globSync('dist/functions/*.js').length, 'run "npm run build" first').toBeGreaterThan(0);
  });

  for (const [reading, included] of readings) {
    describe(`read as ${reading}`, () => {
      it('packages exactly the compiled app, the console, engagement files, host.json and package metadata', () => {
        const files = projectFiles();
        const wrong = files.filter((f) => included(f) !== belongsInPackage(f)).map((f) => `${f}: ${included(f) ? 'packaged' : 'left out'}`);
        expect(wrong).toEqual([]);
        // The sample fails the check if it is dropped: a few named paths on each side.
        for (const f of ['dist/functions/callEvents.js', 'dist/src/app/appSetup.js', 'console/index.html', 'config/engagements.sample.json', 'host.json']) {
          expect(included(f), f).toBe(true);
        }
        for (const f of [
          'src/app/appSetup.ts',
          'functions/callEvents.ts',
          'dev/start.ts',
          'dist-dev/start.js',
          'test/deploy/funcignore.test.ts',
          'infra/main.bicep',
          'local.settings.json',
        ]) {
          expect(included(f), f).toBe(false);
        }
      });

      it('keeps every file the console serves, the chart library from node_modules included', () => {
        // node_modules may be a link to a shared folder: its files are named from node_modules/ on.
        const served = [...consoleFiles().values()]
          .map((f) => f.split('\\').join('/'))
          .map((f) => (f.includes('/node_modules/') ? f.slice(f.indexOf('/node_modules/') + 1) : relative(process.cwd(), f)));
        expect(served).toContain('node_modules/uplot/dist/uPlot.iife.min.js');
        for (const f of served) expect(included(f), f).toBe(true);
      });

      it('keeps the runtime dependencies (dev dependencies are pruned before publishing, not ignored)', () => {
        const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
        for (const name of Object.keys(pkg.dependencies)) {
          const manifest = `node_modules/${name}/package.json`;
          expect(existsSync(manifest), manifest).toBe(true);
          expect(included(manifest), manifest).toBe(true);
        }
        expect(included('node_modules/@azure/functions/types/index.d.ts')).toBe(true);
      });
    });
  }

  it('the two readings differ where Core Tools is not gitignore, which is why folders are named from the root', () => {
    const unanchored = 'src/\n';
    expect(coreToolsFilter(unanchored)('dist/src/app/appSetup.js')).toBe(true);
    expect(gitignoreFilter(unanchored)('dist/src/app/appSetup.js')).toBe(false);
    expect(coreToolsFilter('*.ts\n')('src/errors.ts')).toBe(true);
    expect(gitignoreFilter('*.ts\n')('src/errors.ts')).toBe(false);
  });
});

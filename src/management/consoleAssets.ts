import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A static file of the console, ready to send. */
export interface ConsoleAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The console's files, by the path under `/api/console/`: our own from the `console/` folder at the
 * package root, and the chart library from its npm package (node_modules is deployed with the app, so
 * nothing comes from a CDN). A closed list: no path from the request ever reaches the file system.
 */
export function consoleFiles(): ReadonlyMap<string, string> {
  const require = createRequire(import.meta.url);
  const root = packageRoot(dirname(fileURLToPath(import.meta.url)));
  const own = join(root, 'console');
  return new Map([
    ['', join(own, 'index.html')],
    ['index.html', join(own, 'index.html')],
    ['console.js', join(own, 'console.js')],
    ['console.css', join(own, 'console.css')],
    ['vendor/uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js')],
    ['vendor/uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css')],
  ]);
}

/** Reads each file once per process; undefined for a path that is not a console file. */
export class ConsoleAssets {
  private readonly cache = new Map<string, Promise<ConsoleAsset>>();
  constructor(private readonly files: ReadonlyMap<string, string> = consoleFiles()) {}

  get(path: string): Promise<ConsoleAsset> | undefined {
    const file = this.files.get(path);
    if (file === undefined) return undefined;
    let asset = this.cache.get(path);
    if (asset === undefined) {
      asset = readFile(file).then((body) => ({ body, contentType: TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' }));
      asset.catch(() => this.cache.delete(path));
      this.cache.set(path, asset);
    }
    return asset;
  }
}

/** The folder holding package.json above `from` (src/ when run from sources, dist/src/ when compiled). */
function packageRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

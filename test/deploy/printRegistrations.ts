import { globSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installFunctionsCoreShim, registeredFunctions } from '../../dev/functionsCoreShim.js';

/**
 * What the Functions host indexes under `func start` or in Azure: loads the compiled entry files that
 * package.json `main` names, with the stand-in for the worker's `@azure/functions-core`, and prints each
 * registration (name and bindings, as function.json would hold them) as JSON on stdout. Run in its own
 * process (`node --import tsx`), so no other module has loaded `@azure/functions` before the stand-in.
 * The app start hook is not run: the registrations are read, not served.
 */
const root = process.argv[2] ?? process.cwd();
installFunctionsCoreShim();
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { main?: string };
if (pkg.main === undefined) throw new Error('package.json has no "main"');
const entries = globSync(pkg.main, { cwd: root }).sort();
if (entries.length === 0) throw new Error(`no files match package.json main "${pkg.main}": run "npm run build" first`);
for (const entry of entries) await import(pathToFileURL(resolve(root, entry)).href);
process.stdout.write(JSON.stringify({ entries, functions: registeredFunctions().map(({ name, bindings }) => ({ name, bindings })) }));

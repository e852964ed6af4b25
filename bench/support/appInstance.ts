/**
 * One app instance for the `instances` bench, run as a Node process of its own: the product compiled
 * in dist/ (package.json `main`), served by the local function host on a free port, against the
 * Azurite and broker named in its environment (it starts neither). Prints `READY <url>` once serving;
 * SIGTERM stops it as the Functions host would (the app's terminate hook releases its pacing leases).
 * Every host log line goes to stdout, prefixed by the instance's name.
 */
import { projectRootFrom, startFunctionHost } from '../../dev/functionHost.js';

const name = process.env['BENCH_INSTANCE_NAME'] ?? 'instance';
const root = projectRootFrom(import.meta.url);
const host = await startFunctionHost({ projectRoot: root, port: 0, log: (line) => console.log(`[${name}] ${line}`) });
console.log(`READY ${host.url}`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void host.stop().finally(() => process.exit(0));
});

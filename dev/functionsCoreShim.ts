import { createRequire } from 'node:module';

/**
 * What `@azure/functions` hands the Functions worker for each `app.*` call: the function's metadata
 * (bindings as they would appear in function.json) and the user's handler.
 */
export interface RegisteredFunction {
  readonly name: string;
  readonly bindings: Readonly<Record<string, BindingMetadata>>;
  readonly handler: (...args: unknown[]) => unknown;
}

export interface BindingMetadata {
  readonly type: string;
  readonly direction: 'in' | 'out';
  readonly [key: string]: unknown;
}

const registered: RegisteredFunction[] = [];
type AppHook = (context: { hookData: Record<string, unknown> }) => unknown;
const appStartHooks: AppHook[] = [];
const appTerminateHooks: AppHook[] = [];
let installed = false;

/**
 * Stands in for the Azure Functions Node.js worker's `@azure/functions-core` module, which
 * `@azure/functions` requires to register functions. With it installed, the app's own entry files
 * register exactly what they would register under `func start`, and the local host reads those
 * registrations instead of keeping a second list of functions.
 */
export function installFunctionsCoreShim(): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  const Module = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
  const originalLoad = Module._load;
  const shim = {
    setProgrammingModel: () => undefined,
    registerFunction(metadata: { name: string; bindings: Record<string, BindingMetadata> }, handler: RegisteredFunction['handler']) {
      if (registered.some((f) => f.name === metadata.name)) throw new Error(`function "${metadata.name}" is registered twice`);
      registered.push({ name: metadata.name, bindings: metadata.bindings, handler });
      return { dispose: () => undefined };
    },
    registerHook(name: string, callback: (context: { hookData: Record<string, unknown> }) => unknown) {
      // appStart runs once the app is loaded, appTerminate when the host stops; invocation hooks are not used by this app.
      if (name === 'appStart') appStartHooks.push(callback);
      if (name === 'appTerminate') appTerminateHooks.push(callback);
      return { dispose: () => undefined };
    },
    // Present so `app.setup({ enableHttpStream: true })` sees a host that supports streaming.
    log: (level: string, category: string, message: string) => {
      if (level === 'error' || level === 'warning') console.warn(`[worker ${category}] ${message}`);
    },
  };
  Module._load = function load(this: unknown, request: string, ...rest: unknown[]) {
    if (request === '@azure/functions-core') return shim;
    return originalLoad.call(this, request, ...rest);
  };
}

/** Runs the app's `app.hook.appStart` handlers, as the worker does after loading the entry files. */
export async function runAppStartHooks(): Promise<void> {
  for (const hook of appStartHooks) await hook({ hookData: {} });
}

/** Runs the app's `app.hook.appTerminate` handlers, as the worker does when the host shuts down. */
export async function runAppTerminateHooks(): Promise<void> {
  for (const hook of appTerminateHooks) await hook({ hookData: {} });
}

export function registeredFunctions(): readonly RegisteredFunction[] {
  return registered;
}

/** The trigger binding of a function (exactly one per function). */
export function triggerOf(fn: RegisteredFunction): BindingMetadata {
  const trigger = Object.values(fn.bindings).find((b) => b.direction === 'in' && b.type.endsWith('Trigger'));
  if (trigger === undefined) throw new Error(`function "${fn.name}" has no trigger binding`);
  return trigger;
}

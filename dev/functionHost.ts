import { randomUUID, timingSafeEqual } from 'node:crypto';
import { globSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pathToFileURL } from 'node:url';
import functions, { type HttpResponseInit } from '@azure/functions';
import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';
import { CronExpressionParser } from 'cron-parser';
import {
  installFunctionsCoreShim,
  registeredFunctions,
  runAppStartHooks,
  runAppTerminateHooks,
  triggerOf,
  type BindingMetadata,
  type RegisteredFunction,
} from './functionsCoreShim.js';

// @azure/functions is a webpack-bundled CommonJS module: Node's ESM loader sees `app` as a named export
// but not its classes, so they are taken from the default export.
const { HttpRequest, HttpResponse, InvocationContext } = functions;

export interface FunctionHostOptions {
  /** Folder holding package.json and host.json. */
  readonly projectRoot: string;
  readonly port: number;
  readonly host?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: (line: string) => void;
  /** How often blob triggers list their container for new blobs (Event Grid cannot reach a local host); default 2 s. */
  readonly blobPollMs?: number;
  /** Largest request body taken in; more is a 413 (default: the Functions host's 100 MiB, FUNCTIONS_REQUEST_BODY_SIZE_LIMIT). */
  readonly maxBodyBytes?: number;
  /**
   * Enforce function keys as Azure does: `function` routes need `x-functions-key` or `?code=` with the
   * function key or the master key, `admin` routes the master key. Absent: not enforced (like `func start`).
   */
  readonly keys?: FunctionKeys;
}

export interface FunctionKeys {
  readonly master: string;
  readonly function: string;
}

/** The Functions host's default request body limit. */
export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;

export interface FunctionHost {
  readonly url: string;
  readonly functions: readonly { name: string; trigger: string; detail: string }[];
  stop(): Promise<void>;
}

interface HttpRoute {
  readonly fn: RegisteredFunction;
  readonly methods: readonly string[];
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly authLevel: 'anonymous' | 'function' | 'admin';
}

interface ServeOptions {
  readonly maxBodyBytes: number;
  readonly keys: FunctionKeys | undefined;
  readonly log: (line: string) => void;
}

/**
 * A local stand-in for `func start`: loads the app's entry files (package.json `main`), reads the
 * functions they register through `@azure/functions`, and runs them: HTTP routes under the host.json
 * route prefix, Service Bus queue triggers through the real @azure/service-bus client (complete on
 * success, abandon on failure, as the Functions host does with autoCompleteMessages), and timer
 * triggers on their NCRONTAB schedules. Function keys are enforced only when `keys` is given (`func
 * start` does not). One bad request never stops the host: a malformed URL, Host header or
 * percent-encoding is a 400, a body over the limit a 413.
 */
export async function startFunctionHost(options: FunctionHostOptions): Promise<FunctionHost> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  installFunctionsCoreShim();
  const pkg = JSON.parse(readFileSync(join(options.projectRoot, 'package.json'), 'utf8')) as { main?: string };
  const hostJson = JSON.parse(readFileSync(join(options.projectRoot, 'host.json'), 'utf8')) as {
    extensions?: { http?: { routePrefix?: string }; serviceBus?: { maxConcurrentCalls?: number } };
  };
  if (pkg.main === undefined) throw new Error('package.json has no "main": the host cannot find the function entry files');
  const entries = globSync(pkg.main, { cwd: options.projectRoot }).sort();
  if (entries.length === 0) throw new Error(`no files match package.json main "${pkg.main}": run "npm run build" first`);
  for (const entry of entries) await import(pathToFileURL(resolve(options.projectRoot, entry)).href);
  // The app validates its settings and engagement file here: a bad one stops the host from starting.
  await runAppStartHooks();

  const prefix = hostJson.extensions?.http?.routePrefix ?? 'api';
  const routes: HttpRoute[] = [];
  const stoppers: (() => Promise<void>)[] = [];
  const described: { name: string; trigger: string; detail: string }[] = [];
  for (const fn of registeredFunctions()) {
    const trigger = triggerOf(fn);
    switch (trigger.type) {
      case 'httpTrigger': {
        const route = routeOf(fn, trigger, prefix);
        routes.push(route);
        described.push({
          name: fn.name,
          trigger: 'http',
          detail: `${route.methods.join(',')} /${joinRoute(prefix, bindingString(trigger, 'route') ?? fn.name)}`,
        });
        break;
      }
      case 'serviceBusTrigger':
        stoppers.push(startServiceBusTrigger(fn, trigger, env, log));
        described.push({ name: fn.name, trigger: 'serviceBus', detail: `queue ${resolveSetting(String(trigger['queueName']), env)}` });
        break;
      case 'timerTrigger':
        stoppers.push(startTimerTrigger(fn, resolveSetting(String(trigger['schedule']), env), log));
        described.push({ name: fn.name, trigger: 'timer', detail: resolveSetting(String(trigger['schedule']), env) });
        break;
      case 'blobTrigger': {
        const path = resolveSetting(bindingString(trigger, 'path') ?? '', env);
        stoppers.push(startBlobTrigger(fn, trigger, path, env, options.blobPollMs ?? 2_000, log));
        described.push({ name: fn.name, trigger: 'blob', detail: `${path} (polled)` });
        break;
      }
      default:
        log(`function ${fn.name}: trigger type ${trigger.type} is not supported by the local host; skipped`);
    }
  }

  const consolePath = `/${joinRoute(prefix, 'console/')}`;
  const envLimit = Number(env['FUNCTIONS_REQUEST_BODY_SIZE_LIMIT']);
  const serve: ServeOptions = {
    maxBodyBytes: options.maxBodyBytes ?? (Number.isSafeInteger(envLimit) && envLimit > 0 ? envLimit : DEFAULT_MAX_BODY_BYTES),
    keys: options.keys,
    log,
  };
  const server = createServer((req, res) => {
    // The site root opens the operator console, which is served under the route prefix (docs/decisions.md).
    if ((req.method === 'GET' || req.method === 'HEAD') && (req.url === '/' || req.url === '') && routes.some((r) => r.fn.name === 'operatorConsole')) {
      res.writeHead(302, { location: consolePath });
      res.end();
      return;
    }
    serveHttp(routes, req, res, serve).catch((error: unknown) => {
      // Nothing a request does may stop the host; what reaches here is a host fault, reported by kind only.
      log(`http: ${req.method ?? '?'} request failed in the host: ${(error as Error).name}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'InternalError', message: 'the local host could not serve the request' }));
    });
  });
  server.on('clientError', (_error, socket) => {
    // Unparseable HTTP: answer 400 and close, as Node does by default, without an unhandled error.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, host, () => ok());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`,
    functions: described,
    async stop() {
      await Promise.all(stoppers.map((stop) => stop()));
      await closeServer(server);
      // The app closes its connections and timers in its appTerminate hook, as under the Functions host.
      await runAppTerminateHooks();
    },
  };
}

/** A binding property that function.json holds as a string (route, queue name, connection setting). */
function bindingString(binding: BindingMetadata, key: string): string | undefined {
  const value = binding[key];
  return typeof value === 'string' ? value : undefined;
}

function joinRoute(prefix: string, route: string): string {
  return [prefix, route].filter((p) => p !== '').join('/');
}

function routeOf(fn: RegisteredFunction, trigger: BindingMetadata, prefix: string): HttpRoute {
  const template = joinRoute(prefix, bindingString(trigger, 'route') ?? fn.name);
  const names: string[] = [];
  const source = template
    .split('/')
    .map((segment) => {
      const match = /^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\?)?\}$/.exec(segment);
      if (match === null) return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
      names.push(match[2] ?? '');
      if (match[1] === '*') return '(?:/(.*))?';
      return match[3] === '?' ? '(?:/([^/]+))?' : '/([^/]+)';
    })
    .join('');
  const methods = (trigger['methods'] as string[] | undefined)?.map((m) => m.toUpperCase()) ?? ['GET', 'POST'];
  const level = bindingString(trigger, 'authLevel');
  const authLevel = level === 'anonymous' || level === 'admin' ? level : 'function';
  return { fn, methods, names, pattern: new RegExp(`^${source}/?$`, 'i'), authLevel };
}

/** A Host header as a client may send it: a DNS name or IPv4 address, or a bracketed IPv6 one, and a port. */
const HOST_HEADER = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function reply(res: ServerResponse, status: number, error: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error, message }));
}

function sameKey(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether the request carries a key the route's level accepts (header `x-functions-key` or `?code=`). */
function keyAccepted(route: HttpRoute, req: IncomingMessage, url: URL, keys: FunctionKeys): boolean {
  if (route.authLevel === 'anonymous') return true;
  const header = req.headers['x-functions-key'];
  const given = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('code') ?? '';
  if (sameKey(given, keys.master)) return true;
  return route.authLevel === 'function' && sameKey(given, keys.function);
}

async function serveHttp(routes: readonly HttpRoute[], req: IncomingMessage, res: ServerResponse, options: ServeOptions): Promise<void> {
  const { log } = options;
  const hostHeader = req.headers.host ?? 'localhost';
  if (!HOST_HEADER.test(hostHeader)) return reply(res, 400, 'BadRequest', 'invalid Host header');
  const target = req.url ?? '/';
  if (!target.startsWith('/')) return reply(res, 400, 'BadRequest', 'the request target must be a path');
  let url: URL;
  try {
    url = new URL(`http://${hostHeader}${target}`);
  } catch {
    return reply(res, 400, 'BadRequest', 'malformed request URL');
  }
  const method = (req.method ?? 'GET').toUpperCase();
  let matched: { route: HttpRoute; params: Record<string, string> } | undefined;
  let pathMatched = false;
  for (const route of routes) {
    const m = route.pattern.exec(url.pathname);
    if (m === null) continue;
    pathMatched = true;
    if (!route.methods.includes(method)) continue;
    const params: Record<string, string> = {};
    try {
      route.names.forEach((name, i) => {
        const value = m[i + 1];
        if (value !== undefined) params[name] = decodeURIComponent(value);
      });
    } catch {
      return reply(res, 400, 'BadRequest', 'malformed percent-encoding in the path');
    }
    matched = { route, params };
    break;
  }
  if (matched === undefined) {
    return reply(res, pathMatched ? 405 : 404, pathMatched ? 'MethodNotAllowed' : 'NotFound', `${method} ${url.pathname}`);
  }
  if (options.keys !== undefined && !keyAccepted(matched.route, req, url, options.keys)) {
    return reply(
      res,
      401,
      'Unauthorized',
      `${matched.route.authLevel === 'admin' ? 'the master key' : 'a function key'} is required (x-functions-key header or code query parameter)`,
    );
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > options.maxBodyBytes) {
    return reply(res, 413, 'PayloadTooLarge', `the body is over the ${options.maxBodyBytes}-byte limit`, { connection: 'close' });
  }
  const started = performance.now();
  const invocationId = randomUUID();
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  const hasBody = method !== 'GET' && method !== 'HEAD';
  // A chunked body is counted as it streams: past the limit the stream fails and the answer is a 413.
  let received = 0;
  let tooLarge = false;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > options.maxBodyBytes) {
        tooLarge = true;
        done(new RangeError('request body over the limit'));
      } else done(null, chunk);
    },
  });
  // The request body is handed over as a stream, as the Functions host does with enableHttpStream.
  const nativeRequest = new Request(url, {
    method,
    headers,
    ...(hasBody ? { body: Readable.toWeb(req.pipe(limited)) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  });
  const request = new HttpRequest({ method, url: url.toString(), headers, params: matched.params, nativeRequest } as ConstructorParameters<
    typeof HttpRequest
  >[0]);
  const context = new InvocationContext({ invocationId, functionName: matched.route.fn.name, logHandler: contextLogger(matched.route.fn.name, log) });
  try {
    const result = (await matched.route.fn.handler(request, context)) as HttpResponseInit | InstanceType<typeof HttpResponse> | undefined;
    if (tooLarge) {
      log(`${matched.route.fn.name}: ${method} ${url.pathname} -> 413 (body over ${options.maxBodyBytes} bytes)`);
      return reply(res, 413, 'PayloadTooLarge', `the body is over the ${options.maxBodyBytes}-byte limit`, { connection: 'close' });
    }
    const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? { status: 204 });
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      outHeaders[key] = value;
    });
    res.writeHead(response.status, outHeaders);
    if (response.body !== null) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
    }
    res.end();
    log(`${matched.route.fn.name}: ${method} ${url.pathname} -> ${response.status} (${Math.round(performance.now() - started)} ms)`);
  } catch (error) {
    if (tooLarge && !res.headersSent)
      return reply(res, 413, 'PayloadTooLarge', `the body is over the ${options.maxBodyBytes}-byte limit`, { connection: 'close' });
    log(`${matched.route.fn.name}: ${method} ${url.pathname} failed: ${(error as Error).stack ?? String(error)}`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'InternalError', message: `invocation ${invocationId} failed` }));
  }
}

function contextLogger(functionName: string, log: (line: string) => void) {
  return (level: string, ...args: unknown[]) => {
    log(`[${functionName}] ${level === 'information' ? '' : `${level}: `}${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`);
  };
}

/** `%NAME%` in a binding property is an app setting reference, as in function.json. */
function resolveSetting(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const resolved = env[name];
    if (resolved === undefined) throw new Error(`binding refers to app setting ${name}, which is not set`);
    return resolved;
  });
}

function serviceBusClientFor(connectionSetting: string, env: NodeJS.ProcessEnv): ServiceBusClient {
  const connectionString = env[connectionSetting];
  if (connectionString !== undefined && connectionString !== '') return new ServiceBusClient(connectionString);
  throw new Error(`the local host needs app setting ${connectionSetting} (a connection string) for its Service Bus triggers`);
}

const RECEIVE_BATCH = 32;
const RECEIVE_WAIT_MS = 1_000;

function startServiceBusTrigger(fn: RegisteredFunction, trigger: BindingMetadata, env: NodeJS.ProcessEnv, log: (line: string) => void): () => Promise<void> {
  const queueName = resolveSetting(bindingString(trigger, 'queueName') ?? '', env);
  const client = serviceBusClientFor(bindingString(trigger, 'connection') ?? 'ServiceBusConnection', env);
  const receiver = client.createReceiver(queueName, { receiveMode: 'peekLock' });
  const many = trigger['cardinality'] === 'many';
  let running = true;
  const loop = (async () => {
    while (running) {
      let messages: ServiceBusReceivedMessage[];
      try {
        messages = await receiver.receiveMessages(many ? RECEIVE_BATCH : 1, { maxWaitTimeInMs: RECEIVE_WAIT_MS });
      } catch (error) {
        if (!running) break;
        log(`${fn.name}: receive from ${queueName} failed: ${(error as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      if (messages.length === 0) continue;
      await invokeServiceBus(fn, receiver, messages, many, log);
    }
  })();
  return async () => {
    running = false;
    await loop;
    await receiver.close();
    await client.close();
  };
}

/** Trigger metadata as the Functions host gives it to Node.js (camel-cased; `...Array` for cardinality many). */
function metadataFor(messages: readonly ServiceBusReceivedMessage[], many: boolean): Record<string, unknown> {
  const fields = {
    messageId: messages.map((m) => m.messageId),
    deliveryCount: messages.map((m) => m.deliveryCount),
    enqueuedTimeUtc: messages.map((m) => m.enqueuedTimeUtc?.toISOString()),
    sequenceNumber: messages.map((m) => m.sequenceNumber?.toNumber()),
    lockToken: messages.map((m) => m.lockToken),
    contentType: messages.map((m) => m.contentType),
    correlationId: messages.map((m) => m.correlationId),
    subject: messages.map((m) => m.subject),
    applicationProperties: messages.map((m) => m.applicationProperties ?? {}),
  };
  const out: Record<string, unknown> = {};
  for (const [key, values] of Object.entries(fields)) {
    if (many) out[`${key}Array`] = values;
    else out[key] = values[0];
  }
  return out;
}

async function invokeServiceBus(
  fn: RegisteredFunction,
  receiver: ServiceBusReceiver,
  messages: ServiceBusReceivedMessage[],
  many: boolean,
  log: (line: string) => void,
): Promise<void> {
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: fn.name,
    logHandler: contextLogger(fn.name, log),
    triggerMetadata: metadataFor(messages, many),
  });
  const bodies = messages.map((m) => m.body as unknown);
  let ok = true;
  try {
    await fn.handler(many ? bodies : bodies[0], context);
  } catch (error) {
    ok = false;
    log(`${fn.name}: invocation failed (${messages.length} message(s) abandoned): ${(error as Error).message}`);
  }
  for (const message of messages) {
    try {
      if (ok) await receiver.completeMessage(message);
      else await receiver.abandonMessage(message);
    } catch (error) {
      log(`${fn.name}: settling message ${String(message.messageId)} failed: ${(error as Error).message}`);
    }
  }
}

/** Tries of one blob version before the local host gives up on it, as the Functions host's blob trigger (maxDequeueCount 5). */
const BLOB_MAX_TRIES = 5;

/**
 * A blob trigger for the local host. In Azure the trigger is Event Grid-based (a Blob Created event
 * posted to the host); nothing can post those to a local host, so this lists the container (under the
 * path's fixed prefix) every `pollMs` and invokes the function for each blob version (name + ETag) it
 * has not yet run successfully: at start-up that includes blobs already there. A failed invocation is
 * retried at the next polls, up to 5 tries. Metadata as the Functions host gives it: `blobTrigger`
 * (`container/name`), `name`, `uri`, `properties`.
 */
function startBlobTrigger(
  fn: RegisteredFunction,
  trigger: BindingMetadata,
  path: string,
  env: NodeJS.ProcessEnv,
  pollMs: number,
  log: (line: string) => void,
): () => Promise<void> {
  const connectionSetting = bindingString(trigger, 'connection') ?? 'AzureWebJobsStorage';
  const connectionString = env[connectionSetting];
  if (connectionString === undefined || connectionString === '') {
    throw new Error(`the local host needs app setting ${connectionSetting} (a connection string) for blob trigger ${fn.name}`);
  }
  const slash = path.indexOf('/');
  const containerName = slash < 0 ? path : path.slice(0, slash);
  const prefix = slash < 0 ? '' : path.slice(slash + 1).replace(/\{[^}]*\}.*$/, '');
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(containerName);
  const done = new Map<string, string>();
  const tries = new Map<string, number>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const poll = async () => {
    await container.createIfNotExists();
    for await (const blob of container.listBlobsFlat({ prefix })) {
      if (stopped) return;
      const etag = blob.properties.etag ?? '';
      if (done.get(blob.name) === etag) continue;
      const key = `${blob.name}@${etag}`;
      const tried = tries.get(key) ?? 0;
      if (tried >= BLOB_MAX_TRIES) continue;
      tries.set(key, tried + 1);
      const client = container.getBlobClient(blob.name);
      const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: fn.name,
        logHandler: contextLogger(fn.name, log),
        triggerMetadata: {
          blobTrigger: `${containerName}/${blob.name}`,
          name: blob.name.slice(prefix.length),
          uri: client.url,
          properties: { etag, length: blob.properties.contentLength },
        },
      });
      try {
        await fn.handler(await client.downloadToBuffer(), context);
        done.set(blob.name, etag);
        tries.delete(key);
      } catch (error) {
        log(`${fn.name}: ${containerName}/${blob.name} failed (try ${tried + 1} of ${BLOB_MAX_TRIES}): ${(error as Error).message}`);
      }
    }
  };
  const arm = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = poll().catch((error: unknown) => log(`${fn.name}: listing ${containerName} failed: ${(error as Error).message}`));
      void inFlight.then(arm);
    }, pollMs);
  };
  arm();
  return async () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    await inFlight;
  };
}

function startTimerTrigger(fn: RegisteredFunction, expression: string, log: (line: string) => void): () => Promise<void> {
  const schedule = CronExpressionParser.parse(expression);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const arm = () => {
    if (stopped) return;
    const next = schedule.next().getTime();
    timer = setTimeout(
      () => {
        inFlight = (async () => {
          const context = new InvocationContext({ invocationId: randomUUID(), functionName: fn.name, logHandler: contextLogger(fn.name, log) });
          try {
            await fn.handler({ isPastDue: Date.now() - next > 1_000, schedule: { adjustForDST: true } }, context);
          } catch (error) {
            log(`${fn.name}: timer invocation failed: ${(error as Error).message}`);
          }
        })();
        void inFlight.then(arm);
      },
      Math.max(0, next - Date.now()),
    );
  };
  arm();
  return async () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    await inFlight;
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((ok) => {
    server.close(() => ok());
    server.closeAllConnections();
  });
}

/** The project root above this file (dev/ when run by tsx, dist-dev/ when compiled): the folder with host.json. */
export function projectRootFrom(moduleUrl: string): string {
  let dir = dirname(new URL(moduleUrl).pathname);
  for (let i = 0; i < 5; i++) {
    try {
      readFileSync(join(dir, 'host.json'));
      return dir;
    } catch {
      dir = dirname(dir);
    }
  }
  throw new Error('cannot find the project root (host.json) above the local host');
}

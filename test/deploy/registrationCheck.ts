import { CronExpressionParser } from 'cron-parser';

/** One function as the worker hands it to the host: its name and its bindings (function.json form). */
export interface Registration {
  readonly name: string;
  readonly bindings: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** A row of the README's function list: what `func start` and the portal show for one function. */
export interface ListedFunction {
  readonly name: string;
  /** `httpTrigger`, `serviceBusTrigger`, `timerTrigger` or `blobTrigger`. */
  readonly trigger: string;
  /**
   * HTTP: upper-case methods and the route under the prefix; Service Bus: queue name and connection;
   * timer: schedule; blob: path, connection and source (`EventGrid` or the host's default polling).
   */
  readonly methods?: readonly string[];
  readonly route?: string;
  readonly queueName?: string;
  readonly connection?: string;
  readonly schedule?: string;
  readonly path?: string;
  readonly source?: string;
  /** HTTP only: function, admin or anonymous. */
  readonly authLevel?: string;
}

/** A row of the README's HTTP API table: method, route (no prefix, no query) and the auth column. */
export interface DocumentedEndpoint {
  readonly method: string;
  readonly route: string;
  readonly auth: string;
}

export interface DeploymentFacts {
  readonly functionList: readonly ListedFunction[];
  readonly httpApi: readonly DocumentedEndpoint[];
  /** `Values` of local.settings.sample.json. */
  readonly sampleSettings: Readonly<Record<string, string>>;
  /** Queue names of config/servicebus.json (the local broker's, and the template's). */
  readonly queues: ReadonlySet<string>;
  /** host.json `extensions.http.routePrefix`. */
  readonly routePrefix: string;
}

/** The HTTP API table's auth column, as the host's authLevel: the bot checks its JWT itself behind an anonymous route. */
const AUTH_COLUMN: Readonly<Record<string, string>> = { function: 'function', admin: 'admin', anonymous: 'anonymous', 'JWT (bot)': 'anonymous' };

/** Route segments the Functions host keeps for itself. */
const RESERVED_ROUTE_STARTS = ['admin', 'runtime'];

/** Normalises a route for comparison: no leading slash, parameter names dropped, a catch-all as an empty tail. */
export function routeShape(route: string): string {
  return route
    .replace(/^\/+/, '')
    .split('/')
    .map((segment) => (/^\{\*[^}]*\}$/.test(segment) ? '' : segment.replace(/\{[^}]*\}/g, '{}')))
    .join('/');
}

function triggerOf(fn: Registration): Readonly<Record<string, unknown>> | undefined {
  return Object.values(fn.bindings).find((b) => b['direction'] === 'in' && String(b['type']).endsWith('Trigger'));
}

function stringProp(binding: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const v = binding[key];
  return typeof v === 'string' ? v : undefined;
}

/** `%NAME%` app-setting placeholders in every string property of every binding. */
function placeholders(binding: Readonly<Record<string, unknown>>): { key: string; setting: string }[] {
  const found: { key: string; setting: string }[] = [];
  for (const [key, value] of Object.entries(binding)) {
    if (typeof value !== 'string') continue;
    for (const match of value.matchAll(/%([^%]+)%/g)) found.push({ key, setting: match[1] ?? '' });
  }
  return found;
}

/** Resolves `%NAME%` placeholders from the sample settings, as the host does from app settings. */
function resolve(value: string, settings: Readonly<Record<string, string>>): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => settings[name] ?? `%${name}%`);
}

/**
 * Every way the registrations can drift from what users deploy and read: a function the README does not
 * list (or lists and the app no longer registers), a changed trigger, route, method or auth level, an
 * HTTP route missing from the HTTP API table, an app setting a binding names that
 * local.settings.sample.json does not list, a queue the broker config (and so the template) lacks, a
 * schedule that is not NCRONTAB with seconds, a blob path, connection or source that changed, or a
 * watched container whose name Blob Storage refuses. Returns one line per problem, naming the function.
 */
export function checkRegistrations(registrations: readonly Registration[], facts: DeploymentFacts): string[] {
  const problems: string[] = [];
  const listed = new Map(facts.functionList.map((f) => [f.name, f]));
  const registered = new Set(registrations.map((r) => r.name));
  const documented = new Set(facts.httpApi.map((e) => `${e.method} ${routeShape(e.route)} ${AUTH_COLUMN[e.auth] ?? `unknown auth "${e.auth}"`}`));
  const served = new Set<string>();

  for (const fn of registrations) {
    const at = `function "${fn.name}"`;
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,126}$/.test(fn.name)) problems.push(`${at}: not a valid Azure Functions name`);
    const trigger = triggerOf(fn);
    if (trigger === undefined) {
      problems.push(`${at}: no trigger binding`);
      continue;
    }
    const type = String(trigger['type']);
    const row = listed.get(fn.name);
    if (row === undefined) problems.push(`${at}: registered, but not in the README's function list`);
    else if (row.trigger !== type) problems.push(`${at}: trigger ${type}, the README lists ${row.trigger}`);

    for (const binding of Object.values(fn.bindings)) {
      const connection = stringProp(binding, 'connection');
      if (connection !== undefined && !(connection in facts.sampleSettings)) {
        problems.push(`${at}: binding ${String(binding['type'])} names connection setting "${connection}", which local.settings.sample.json does not list`);
      }
      for (const { key, setting } of placeholders(binding)) {
        if (!(setting in facts.sampleSettings))
          problems.push(`${at}: ${key} "%${setting}%" names app setting "${setting}", which local.settings.sample.json does not list`);
      }
    }

    if (type === 'httpTrigger') {
      const route = stringProp(trigger, 'route') ?? fn.name;
      const methods = ((trigger['methods'] as string[] | undefined) ?? ['GET', 'POST']).map((m) => m.toUpperCase()).sort();
      const authLevel = stringProp(trigger, 'authLevel') ?? 'function';
      if (RESERVED_ROUTE_STARTS.some((r) => route === r || route.startsWith(`${r}/`)))
        problems.push(`${at}: route "${route}" starts with a segment the host reserves`);
      if (row !== undefined && row.trigger === type) {
        if (row.route !== undefined && routeShape(row.route) !== routeShape(`${facts.routePrefix}/${route}`)) {
          problems.push(`${at}: route "/${facts.routePrefix}/${route}", the README lists "${row.route}"`);
        }
        if ((row.methods ?? []).join(',') !== methods.join(','))
          problems.push(`${at}: methods ${methods.join(',')}, the README lists ${(row.methods ?? []).join(',')}`);
        if (row.authLevel !== authLevel) problems.push(`${at}: auth level ${authLevel}, the README lists ${row.authLevel ?? '(none)'}`);
      }
      for (const method of methods) {
        const key = `${method} ${routeShape(route)} ${authLevel}`;
        served.add(key);
        if (!documented.has(key)) problems.push(`${at}: ${method} /${route} (auth ${authLevel}) is not in the README's HTTP API table`);
      }
    }

    if (type === 'serviceBusTrigger') {
      const queueName = stringProp(trigger, 'queueName') ?? '';
      const connection = stringProp(trigger, 'connection') ?? '';
      if (row !== undefined && row.trigger === type && (row.queueName !== queueName || row.connection !== connection)) {
        problems.push(`${at}: queue "${queueName}" on "${connection}", the README lists "${row.queueName ?? ''}" on "${row.connection ?? ''}"`);
      }
      const queue = resolve(queueName, facts.sampleSettings);
      if (!facts.queues.has(queue)) problems.push(`${at}: queue "${queue}" (from "${queueName}") is not in config/servicebus.json`);
    }

    if (type === 'blobTrigger') {
      const path = stringProp(trigger, 'path') ?? '';
      const connection = stringProp(trigger, 'connection') ?? '';
      const source = stringProp(trigger, 'source') ?? 'LogsAndContainerScan';
      if (
        row !== undefined &&
        row.trigger === type &&
        (row.path !== path || row.connection !== connection || (row.source ?? 'LogsAndContainerScan') !== source)
      ) {
        problems.push(
          `${at}: blob "${path}" on "${connection}" (source ${source}), the README lists "${row.path ?? ''}" on "${row.connection ?? ''}" (source ${row.source ?? 'LogsAndContainerScan'})`,
        );
      }
      // Blob container names: 3-63 lower-case letters, digits and single hyphens.
      const container = resolve(path, facts.sampleSettings).split('/')[0] ?? '';
      if (!/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(container))
        problems.push(`${at}: container "${container}" (from "${path}") is not a valid blob container name`);
    }

    if (type === 'timerTrigger') {
      const schedule = stringProp(trigger, 'schedule') ?? '';
      if (row !== undefined && row.trigger === type && row.schedule !== schedule)
        problems.push(`${at}: schedule "${schedule}", the README lists "${row.schedule ?? ''}"`);
      const resolved = resolve(schedule, facts.sampleSettings);
      if (resolved.trim().split(/\s+/).length !== 6) problems.push(`${at}: schedule "${resolved}" is not NCRONTAB with seconds (6 fields)`);
      else {
        try {
          CronExpressionParser.parse(resolved);
        } catch (error) {
          problems.push(`${at}: schedule "${resolved}" does not parse: ${(error as Error).message}`);
        }
      }
    }
  }

  for (const row of facts.functionList) {
    if (!registered.has(row.name)) problems.push(`function "${row.name}": the README lists it, but no entry file registers it`);
  }
  for (const endpoint of facts.httpApi) {
    const key = `${endpoint.method} ${routeShape(endpoint.route)} ${AUTH_COLUMN[endpoint.auth] ?? `unknown auth "${endpoint.auth}"`}`;
    if (!served.has(key)) problems.push(`HTTP API table: ${endpoint.method} ${endpoint.route} (${endpoint.auth}) matches no registered function`);
  }
  return problems;
}

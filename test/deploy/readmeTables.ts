import type { DocumentedEndpoint, ListedFunction } from './registrationCheck.js';

/** Rows (cells as written) of the first Markdown table after the heading `heading` (e.g. "## HTTP API"). */
export function tableAfter(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`README has no heading "${heading}"`);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6} /.test(line)) break;
    if (line.trim().startsWith('|')) {
      inTable = true;
      rows.push(
        line
          .trim()
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((c) => c.trim()),
      );
    } else if (inTable) break;
  }
  if (rows.length < 2) throw new Error(`no table after "${heading}" in README`);
  // Header and separator rows go.
  return rows.slice(2);
}

function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
}

/** The HTTP API table: `Method and route` / `Auth`. The query string is not part of the route. */
export function httpApiTable(markdown: string): DocumentedEndpoint[] {
  return tableAfter(markdown, '## HTTP API').map(([routeCell = '', auth = '']) => {
    const [spec = ''] = codeSpans(routeCell);
    const [method = '', path = ''] = spec.split(' ');
    return { method, route: path.split('?')[0] ?? '', auth };
  });
}

const TRIGGERS: Readonly<Record<string, string>> = {
  HTTP: 'httpTrigger',
  'Service Bus queue': 'serviceBusTrigger',
  timer: 'timerTrigger',
  blob: 'blobTrigger',
};

/**
 * The function list (`### Functions the host indexes`): `Function` | `Trigger` | `Binding` | `Auth`. The binding
 * cell is `METHODS /api/route` (HTTP), `%QUEUE%` then the connection (Service Bus), the schedule (timer), or
 * the path, the connection and the source (blob: `` `%CONTAINER%/{name}` on `Connection`, source `EventGrid` ``).
 */
export function functionListTable(markdown: string): ListedFunction[] {
  return tableAfter(markdown, '### Functions the host indexes').map(([nameCell = '', triggerCell = '', bindingCell = '', authCell = '']) => {
    const [name = ''] = codeSpans(nameCell);
    const trigger = TRIGGERS[triggerCell] ?? `unknown trigger "${triggerCell}"`;
    const spans = codeSpans(bindingCell);
    if (trigger === 'httpTrigger') {
      const [methods = '', route = ''] = (spans[0] ?? '').split(' ');
      return { name, trigger, methods: methods.split(',').sort(), route, authLevel: authCell };
    }
    if (trigger === 'serviceBusTrigger') return { name, trigger, queueName: spans[0], connection: spans[1] };
    if (trigger === 'blobTrigger') return { name, trigger, path: spans[0], connection: spans[1], source: spans[2] };
    return { name, trigger, schedule: spans[0] };
  });
}

import { readFile } from 'node:fs/promises';
import { formatPath, UserError, type FieldIssue } from '../errors.js';
import { engagementFileSchema, type EngagementConfig, type EngagementFile, type QueueConfig } from './engagementSchema.js';

/** The validated, frozen engagement catalogue the app runs on. */
export interface EngagementCatalog {
  readonly engagements: ReadonlyMap<string, EngagementConfig>;
  readonly queues: ReadonlyMap<string, QueueConfig>;
}

/**
 * Parses an engagement file's content. Every problem is reported at once, each naming the engagement
 * (or queue) it belongs to and the field path inside it, so an operator fixes the file in one pass.
 */
export function parseEngagementFile(content: unknown, source = 'engagement file'): EngagementCatalog {
  const result = engagementFileSchema.safeParse(content);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => describeIssue(content, issue.path, issue.message));
    throw new UserError('InvalidEngagementFile', `${source} is invalid:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`, issues);
  }
  return toCatalog(result.data);
}

export async function loadEngagementFile(path: string): Promise<EngagementCatalog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError('InvalidEngagementFile', `cannot read engagement file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError('InvalidEngagementFile', `engagement file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseEngagementFile(json, `engagement file ${path}`);
}

function toCatalog(file: EngagementFile): EngagementCatalog {
  const engagements = new Map(file.engagements.map((e) => [e.id, deepFreeze(e)]));
  const queues = new Map(file.queues.map((q) => [q.name, deepFreeze(q)]));
  return Object.freeze({ engagements, queues });
}

/** `engagements[2].dialMode.mode` becomes `engagement "renewals" dialMode.mode`, naming what the operator knows. */
function describeIssue(content: unknown, path: readonly PropertyKey[], message: string): FieldIssue {
  const [section, index, ...rest] = path;
  if ((section === 'engagements' || section === 'queues') && typeof index === 'number') {
    const item = (content as Record<string, unknown[]> | null)?.[section]?.[index] as Record<string, unknown> | undefined;
    const label = section === 'engagements' ? item?.['id'] : item?.['name'];
    const kind = section === 'engagements' ? 'engagement' : 'queue';
    const name = typeof label === 'string' ? `${kind} "${label}"` : `${kind} #${index}`;
    return { path: `${name} ${formatPath(rest)}`, message };
  }
  return { path: formatPath(path), message };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

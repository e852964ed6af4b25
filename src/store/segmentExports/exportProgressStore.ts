import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { odataString } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';

export const EXPORT_PROGRESS_TABLE = 'SegmentExports';

/** Where processing a file version stands: checked and being published, done, or refused as a whole. */
export type ExportFileState = 'processing' | 'completed' | 'rejected';

/** Most bad-row examples kept per file (line and reason); the rest are counted by reason. */
export const MAX_BAD_ROW_EXAMPLES = 20;

export interface BadRow {
  readonly line: number;
  readonly reason: string;
}

/** The checkpoint and summary of one export file version (blob name + ETag). */
export interface ExportProgress {
  readonly engagementId: string;
  readonly blobName: string;
  readonly version: string;
  readonly state: ExportFileState;
  /** Data rows in the file (counted by the check before anything is published). */
  readonly totalRows: number;
  /** Data rows published and committed; processing resumes from this row. */
  readonly committedRows: number;
  readonly pages: number;
  readonly accepted: number;
  readonly skipped: Readonly<Record<string, number>>;
  readonly badRows: number;
  readonly badReasons: Readonly<Record<string, number>>;
  readonly badExamples: readonly BadRow[];
  /** Why the whole file was refused (state rejected). */
  readonly error: string | null;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly etag: string;
}

/** What one committed page adds. */
export interface PageCommit {
  readonly committedRows: number;
  readonly accepted: number;
  readonly skipped: Readonly<Record<string, number>>;
  readonly badRows: readonly BadRow[];
}

interface Entity {
  partitionKey: string;
  rowKey: string;
  blobName: string;
  version: string;
  state: ExportFileState;
  totalRows: number;
  committedRows: number;
  pages: number;
  accepted: number;
  skipped: string;
  badRows: number;
  badReasons: string;
  badExamples: string;
  error?: string;
  startedAt: string;
  updatedAt: string;
}

/** The row key of a blob: a digest, since blob names may be long and hold characters keys forbid. */
export function exportFileKey(container: string, blobName: string): string {
  return createHash('sha256').update(`${container}/${blobName}`).digest('hex').slice(0, 40);
}

/**
 * Progress of segment export files in Table Storage, one row per (engagement, blob), updated with
 * ETag conditions: a page's commit fails if someone else committed since it was read, so two workers
 * given the same file never both count (or skip past) the same page.
 */
export class ExportProgressStore {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(EXPORT_PROGRESS_TABLE);
  }

  async get(engagementId: string, fileKey: string): Promise<ExportProgress | undefined> {
    const client = await this.client();
    try {
      return fromEntity(await client.getEntity<Entity>(engagementId, fileKey));
    } catch (error) {
      if (tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * Starts (or restarts, for a new version of the blob) a file's progress. Returns undefined when
   * another worker started the same version first, or the stored row changed since `previous`.
   */
  async start(
    engagementId: string,
    fileKey: string,
    file: { blobName: string; version: string; totalRows: number; state: ExportFileState; error?: string; badRows?: readonly BadRow[] },
    previous: ExportProgress | undefined,
    now: number,
  ): Promise<ExportProgress | undefined> {
    const client = await this.client();
    const at = new Date(now).toISOString();
    const bad = summarizeBad({ badRows: 0, badReasons: {}, badExamples: [] }, file.badRows ?? []);
    const entity: Entity = {
      partitionKey: engagementId,
      rowKey: fileKey,
      blobName: file.blobName,
      version: file.version,
      state: file.state,
      totalRows: file.totalRows,
      committedRows: 0,
      pages: 0,
      accepted: 0,
      skipped: '{}',
      badRows: bad.badRows,
      badReasons: JSON.stringify(bad.badReasons),
      badExamples: JSON.stringify(bad.badExamples),
      ...(file.error === undefined ? {} : { error: file.error }),
      startedAt: at,
      updatedAt: at,
    };
    try {
      if (previous === undefined) await client.createEntity(entity);
      else await client.updateEntity(entity, 'Replace', { etag: previous.etag });
    } catch (error) {
      const status = tableErrorStatus(error);
      if (status === 409 || status === 412) return undefined;
      throw error;
    }
    return this.get(engagementId, fileKey);
  }

  /** Records a published page; undefined when the row changed since `current` was read (another worker's commit). */
  async commitPage(current: ExportProgress, fileKey: string, page: PageCommit, done: boolean, now: number): Promise<ExportProgress | undefined> {
    const client = await this.client();
    const skipped: Record<string, number> = { ...current.skipped };
    for (const [reason, n] of Object.entries(page.skipped)) if (n > 0) skipped[reason] = (skipped[reason] ?? 0) + n;
    const bad = summarizeBad(current, page.badRows);
    try {
      await client.updateEntity(
        {
          partitionKey: current.engagementId,
          rowKey: fileKey,
          state: done ? 'completed' : 'processing',
          committedRows: page.committedRows,
          pages: current.pages + 1,
          accepted: current.accepted + page.accepted,
          skipped: JSON.stringify(skipped),
          badRows: bad.badRows,
          badReasons: JSON.stringify(bad.badReasons),
          badExamples: JSON.stringify(bad.badExamples),
          updatedAt: new Date(now).toISOString(),
        },
        'Merge',
        { etag: current.etag },
      );
    } catch (error) {
      if (tableErrorStatus(error) === 412) return undefined;
      throw error;
    }
    return this.get(current.engagementId, fileKey);
  }

  /** The engagement's files, most recently updated first. */
  async byEngagement(engagementId: string, limit = 20): Promise<ExportProgress[]> {
    const client = await this.client();
    const all: ExportProgress[] = [];
    for await (const entity of client.listEntities<Entity>({ queryOptions: { filter: `PartitionKey eq ${odataString(engagementId)}` } })) {
      all.push(fromEntity(entity));
    }
    return all.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1)).slice(0, limit);
  }
}

function summarizeBad(
  current: Pick<ExportProgress, 'badRows' | 'badReasons' | 'badExamples'>,
  rows: readonly BadRow[],
): Pick<ExportProgress, 'badRows' | 'badReasons' | 'badExamples'> {
  const badReasons: Record<string, number> = { ...current.badReasons };
  const badExamples = [...current.badExamples];
  for (const row of rows) {
    const kind = row.reason.split(':')[0] ?? row.reason;
    badReasons[kind] = (badReasons[kind] ?? 0) + 1;
    if (badExamples.length < MAX_BAD_ROW_EXAMPLES) badExamples.push(row);
  }
  return { badRows: current.badRows + rows.length, badReasons, badExamples };
}

function fromEntity(entity: Entity & { etag?: string }): ExportProgress {
  return {
    engagementId: entity.partitionKey,
    blobName: entity.blobName,
    version: entity.version,
    state: entity.state,
    totalRows: entity.totalRows,
    committedRows: entity.committedRows,
    pages: entity.pages,
    accepted: entity.accepted,
    skipped: JSON.parse(entity.skipped) as Record<string, number>,
    badRows: entity.badRows,
    badReasons: JSON.parse(entity.badReasons) as Record<string, number>,
    badExamples: JSON.parse(entity.badExamples) as BadRow[],
    error: entity.error ?? null,
    startedAt: entity.startedAt,
    updatedAt: entity.updatedAt,
    etag: entity.etag ?? '',
  };
}

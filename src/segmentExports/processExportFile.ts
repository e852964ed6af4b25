import { z } from 'zod';
import { contactInputSchema } from '../contacts/contactInput.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import type { EngagementConfig } from '../engagement/engagementSchema.js';
import { formatPath } from '../errors.js';
import { applyFieldMap, type FieldMap } from '../intake/fieldMap.js';
import type { IntakeService } from '../intake/intakeService.js';
import type { TriggerContact } from '../planning/planDeliveries.js';
import type { ExportBlobSource } from '../store/segmentExports/exportBlobSource.js';
import { exportFileKey, type BadRow, type ExportProgress, type ExportProgressStore } from '../store/segmentExports/exportProgressStore.js';
import { columnsFromModel, parseExportPath } from './cdmModel.js';
import { BadExportFile, exportFormatOf, readExportRows, type CsvLayout, type ExportFormat, type ExportRow } from './readExportRows.js';

export interface ExportFileDeps {
  readonly catalog: EngagementCatalog;
  readonly intake: Pick<IntakeService, 'accept'>;
  readonly blobs: Pick<ExportBlobSource, 'version' | 'open' | 'readText'>;
  readonly progress: ExportProgressStore;
  /** Data rows per published page (and per checkpoint). */
  readonly pageSize: number;
  readonly clock: () => number;
  readonly log: (line: string) => void;
}

export type ExportFileResult =
  { readonly status: 'unmapped' | 'gone' } | { readonly status: 'completed' | 'rejected'; readonly progress: ExportProgress; readonly alreadyDone: boolean };

/** The engagement whose `customerInsights.exports` container and prefix hold this blob (the longest prefix wins). */
export function engagementForBlob(catalog: EngagementCatalog, container: string, name: string): EngagementConfig | undefined {
  let best: EngagementConfig | undefined;
  for (const engagement of catalog.engagements.values()) {
    const exports = engagement.customerInsights?.exports;
    if (exports === undefined || exports.container !== container || !name.startsWith(exports.prefix)) continue;
    if (best === undefined || exports.prefix.length > (best.customerInsights?.exports?.prefix.length ?? 0)) best = engagement;
  }
  return best;
}

/**
 * Takes one segment export file from Blob Storage into intake, exactly once per file version.
 *
 * 1. Check: the whole file is read once before anything is published. A file whose columns give no
 *    contact id or no phone, or that is not valid CSV / UTF-8, is rejected as a whole (reported in the
 *    status); rows that are merely bad are counted with their line and reason.
 * 2. Publish in pages of `pageSize` data rows, each page an intake trigger whose source key names the
 *    file version and page number. A page's rows are read as intake plans them, a slice at a time (the
 *    page is never held). After each page the checkpoint (rows committed) is written.
 *
 * A restart, a redelivered event or a second worker resumes after the last committed page. A page
 * published but not committed is published again under the same trigger id, and everything after
 * intake is idempotent by that id and the delivery ids (Service Bus duplicate detection, pending
 * markers, deliveries stored once): nobody is engaged twice.
 */
export async function processExportFile(deps: ExportFileDeps, container: string, name: string): Promise<ExportFileResult> {
  const engagement = engagementForBlob(deps.catalog, container, name);
  if (engagement === undefined) {
    deps.log(`segment export ${container}/${name}: no engagement takes exports from here; ignored`);
    return { status: 'unmapped' };
  }
  const version = await deps.blobs.version(container, name);
  if (version === undefined) return { status: 'gone' };
  const fileKey = exportFileKey(container, name);
  const fieldMap = engagement.customerInsights?.fieldMap ?? {};
  const format = exportFormatOf(name);

  let progress = await deps.progress.get(engagement.id, fileKey);
  if (progress !== undefined && progress.version === version.etag && progress.state !== 'processing') {
    return { status: progress.state, progress, alreadyDone: true };
  }
  const columns = format === 'csv' ? await modelColumns(deps, container, name) : undefined;
  if (progress === undefined || progress.version !== version.etag) {
    const checked = await checkFile(deps, container, name, version.etag, format, columns, fieldMap);
    const started = await deps.progress.start(
      engagement.id,
      fileKey,
      {
        blobName: name,
        version: version.etag,
        totalRows: checked.rows,
        state: checked.error === undefined ? 'processing' : 'rejected',
        ...(checked.error === undefined ? {} : { error: checked.error }),
      },
      progress,
      deps.clock(),
    );
    // Another worker started this version first: carry on from its progress.
    progress = started ?? (await deps.progress.get(engagement.id, fileKey));
    if (progress === undefined) throw new Error(`segment export ${container}/${name}: progress vanished while starting`);
    if (progress.state === 'rejected') {
      deps.log(`segment export ${container}/${name}: rejected: ${progress.error ?? ''}`);
      return { status: 'rejected', progress, alreadyDone: false };
    }
  }
  const source = `export:${container}/${name}@${version.etag}`;
  const contactSchema = z
    .unknown()
    .transform((record) => applyFieldMap(record, fieldMap))
    .pipe(contactInputSchema);

  const stream = await deps.blobs.open(container, name, version.etag);
  const rows = readExportRows(stream, { format, ...(columns === undefined ? {} : { columns }) })[Symbol.asyncIterator]();
  let row = 0;
  let ended = false;
  const nextRow = async (): Promise<ExportRow | undefined> => {
    const next = await rows.next();
    if (next.done === true) {
      ended = true;
      return undefined;
    }
    row++;
    return next.value;
  };
  /** The contacts of the page starting at the current row, read as intake pulls them; bad rows go to `bad`. */
  async function* pageContacts(bad: BadRow[]): AsyncGenerator<TriggerContact> {
    for (let taken = 0; taken < deps.pageSize; taken++) {
      const item = await nextRow();
      if (item === undefined) return;
      if ('problem' in item) {
        bad.push({ line: item.line, reason: `${format === 'csv' ? 'column-count' : 'invalid-json'}: ${item.problem}` });
        continue;
      }
      const parsed = contactSchema.safeParse(item.record);
      if (parsed.success) yield { contact: parsed.data, source };
      else bad.push({ line: item.line, reason: `invalid-field: ${parsed.error.issues.map((i) => `${formatPath(i.path, '')}: ${i.message}`).join('; ')}` });
    }
  }
  try {
    while (row < progress.committedRows && (await nextRow()) !== undefined);
    while (progress.state === 'processing') {
      const current: ExportProgress = progress;
      const pageNumber = Math.floor(row / deps.pageSize);
      const bad: BadRow[] = [];
      const contacts = pageContacts(bad);
      // A page with no contact (all bad, or the end of the file) is committed without an intake call.
      const first = await contacts.next();
      const result =
        first.done === true
          ? undefined
          : await deps.intake.accept(engagement.id, { sourceKey: `${source}/page:${pageNumber}`, contacts: prepend(first.value, contacts) });
      // A trigger answered from its record (a replay) reads none of its contacts: read past them all the same.
      for await (const _ of contacts);
      const committed = await deps.progress.commitPage(
        current,
        fileKey,
        { committedRows: row, accepted: result?.accepted ?? 0, skipped: result?.skipped ?? {}, badRows: bad },
        ended || row === current.totalRows,
        deps.clock(),
      );
      if (committed === undefined) {
        // Someone else committed meanwhile: follow their checkpoint (our page, if it was theirs too, was a no-op repeat).
        stream.destroy();
        return processExportFile(deps, container, name);
      }
      progress = committed;
    }
  } finally {
    stream.destroy();
  }
  deps.log(
    `segment export ${container}/${name}: completed: engagement=${engagement.id} rows=${progress.totalRows} accepted=${progress.accepted} bad=${progress.badRows} skipped=${JSON.stringify(progress.skipped)}`,
  );
  return { status: 'completed', progress, alreadyDone: false };
}

async function modelColumns(deps: ExportFileDeps, container: string, name: string): Promise<string[] | undefined> {
  const path = parseExportPath(name);
  if (path === undefined) return undefined;
  const text = await deps.blobs.readText(container, path.modelName);
  if (text === undefined) return undefined;
  try {
    return columnsFromModel(text, path.table);
  } catch (error) {
    deps.log(`segment export ${container}/${name}: ${(error as Error).message}; reading the header row instead`);
    return undefined;
  }
}

/** Reads the whole file once: its data row count, or why it cannot be processed at all. */
async function checkFile(
  deps: ExportFileDeps,
  container: string,
  name: string,
  etag: string,
  format: ExportFormat,
  columns: readonly string[] | undefined,
  fieldMap: FieldMap,
): Promise<{ rows: number; error?: string }> {
  let layout: CsvLayout | undefined;
  let rows = 0;
  const stream = await deps.blobs.open(container, name, etag);
  try {
    for await (const _ of readExportRows(stream, { format, ...(columns === undefined ? {} : { columns }) }, (l) => {
      layout = l;
      const missing = missingTargets(l.columns, fieldMap);
      if (missing !== undefined) throw new BadExportFile(missing, 1);
    })) {
      rows++;
    }
  } catch (error) {
    if (error instanceof BadExportFile) return { rows, error: `${error.message}${error.line === undefined ? '' : ` (line ${error.line})`}` };
    throw error;
  }
  if (format === 'csv' && layout !== undefined && layout.columns.length === 0) return { rows, error: 'no columns: no model.json entry and no header row' };
  return { rows };
}

/** Whether the columns can give each contact an id and a phone under the field map; the message says what is missing. */
function missingTargets(columns: readonly string[], fieldMap: FieldMap): string | undefined {
  const probe = applyFieldMap(Object.fromEntries(columns.map((c) => [c, 'x'])), fieldMap) as Record<string, unknown>;
  const lacks: string[] = [];
  if (probe['contactId'] === undefined) lacks.push('a contact id (contactid / msdynmkt_profileid, or map contactId)');
  if (probe['phones'] === undefined) lacks.push('a phone (mobilephone, telephone1, telephone2, or map phones.*)');
  if (lacks.length === 0) return undefined;
  return `wrong columns [${columns.slice(0, 30).join(', ')}]: no column gives ${lacks.join(' or ')}`;
}

async function* prepend<T>(first: T, rest: AsyncIterable<T>): AsyncGenerator<T> {
  yield first;
  yield* rest;
}

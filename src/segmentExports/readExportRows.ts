import type { Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';

export type ExportFormat = 'csv' | 'ndjson';

/** A data row of an export file: its 1-based line (where the row starts) and its values. */
export type ExportRow = { readonly line: number; readonly record: Record<string, unknown> } | { readonly line: number; readonly problem: string };

/** The file cannot be read as a whole (broken quoting, not UTF-8): nothing of it is to be processed. */
export class BadExportFile extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
  ) {
    super(message);
    this.name = 'BadExportFile';
  }
}

/** The format by file name: `.ndjson`, `.jsonl` and `.json` are NDJSON, anything else CSV (Customer Insights writes CSV). */
export function exportFormatOf(name: string): ExportFormat {
  return /\.(ndjson|jsonl|json)$/i.test(name) ? 'ndjson' : 'csv';
}

export interface ReadExportOptions {
  readonly format: ExportFormat;
  /**
   * CSV column names (from model.json). When given, a first row equal to them (ignoring case) is taken
   * as a header and skipped; when absent, the first row must be the header.
   */
  readonly columns?: readonly string[];
}

/** What the first rows said about the layout of a CSV file. */
export interface CsvLayout {
  readonly columns: readonly string[];
  readonly hasHeader: boolean;
}

/**
 * Streams the data rows of an export file, in order, with the line each starts on. CSV goes through
 * csv-parse (RFC 4180 quoting, embedded newlines, a UTF-8 BOM); a row whose column count differs from
 * the layout is yielded as a problem, not thrown. NDJSON: one JSON object a line. Rows are pulled, so
 * the caller's pace (publishing a page) is the reading pace.
 *
 * `onLayout` is called once, before the first row, with the CSV columns in force.
 */
export async function* readExportRows(stream: Readable, options: ReadExportOptions, onLayout?: (layout: CsvLayout) => void): AsyncGenerator<ExportRow> {
  if (options.format === 'ndjson') {
    yield* readNdjsonRows(stream);
    return;
  }
  const parser = stream.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }));
  let layout: CsvLayout | undefined;
  // Lines are counted here rather than read from csv-parse's info.lines, which counts a CRLF inside a
  // quoted field as two lines.
  let previousEnd = 0;
  let previousEmpty = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { empty_lines: number } }>) {
      const { record, info } = item;
      const line = previousEnd + 1 + (info.empty_lines - previousEmpty);
      previousEmpty = info.empty_lines;
      previousEnd = line + record.reduce((n, field) => n + (field.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
      if (layout === undefined) {
        const header = options.columns === undefined || sameColumns(record, options.columns);
        layout = { columns: options.columns ?? record.map((c) => c.trim()), hasHeader: header };
        onLayout?.(layout);
        if (header) continue;
      }
      if (record.length !== layout.columns.length) {
        yield { line, problem: `expected ${layout.columns.length} columns, found ${record.length}` };
        continue;
      }
      const values: Record<string, unknown> = {};
      layout.columns.forEach((column, i) => {
        const value = record[i] ?? '';
        if (value !== '') values[column] = value;
      });
      yield { line, record: values };
    }
  } catch (error) {
    if (error instanceof CsvError) throw new BadExportFile(`not valid CSV: ${error.message}`, (error as CsvError & { lines?: number }).lines);
    throw error;
  }
  if (layout === undefined) onLayout?.({ columns: options.columns ?? [], hasHeader: false });
}

function sameColumns(row: readonly string[], columns: readonly string[]): boolean {
  return row.length === columns.length && row.every((value, i) => value.trim().toLowerCase() === columns[i]?.toLowerCase());
}

async function* readNdjsonRows(stream: Readable): AsyncGenerator<ExportRow> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let buffered = '';
  let line = 0;
  const take = (text: string): ExportRow | undefined => {
    line++;
    if (text.trim() === '') return undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { line, problem: 'expected a JSON object' };
      return { line, record: value as Record<string, unknown> };
    } catch (error) {
      return { line, problem: `not valid JSON: ${(error as Error).message}` };
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      const lines = (buffered + decoder.decode(chunk, { stream: true })).split('\n');
      buffered = lines.pop() ?? '';
      for (const text of lines) {
        const row = take(text);
        if (row !== undefined) yield row;
      }
    }
    buffered += decoder.decode();
  } catch (error) {
    if (error instanceof TypeError) throw new BadExportFile(`not UTF-8 text: ${error.message}`, line + 1);
    throw error;
  }
  const last = take(buffered);
  if (last !== undefined) yield last;
}

import { z } from 'zod';

/**
 * The part of a Common Data Model `model.json` this app reads: each entity (table) and its attributes
 * (columns) in file order. Everything else in the file is ignored.
 */
const cdmModelSchema = z.object({
  entities: z.array(
    z.looseObject({
      name: z.string().min(1),
      attributes: z.array(z.looseObject({ name: z.string().min(1) })).default([]),
    }),
  ),
});

/** The columns of `table` in a model.json text; undefined when the model does not describe the table. Throws on a file that is not a CDM model. */
export function columnsFromModel(text: string, table: string): string[] | undefined {
  const parsed = cdmModelSchema.safeParse(JSON.parse(text.replace(/^\uFEFF/, '')));
  if (!parsed.success) throw new Error(`model.json is not a CDM model: ${parsed.error.issues[0]?.message ?? 'unexpected shape'}`);
  const entity = parsed.data.entities.find((e) => e.name.toLowerCase() === table.toLowerCase());
  if (entity === undefined || entity.attributes.length === 0) return undefined;
  return entity.attributes.map((a) => a.name);
}

/** Where a Customer Insights export file sits: `<...>/CustomerInsights_<id>/<exportName>/<table>/<yyyy>/<MM>/<dd>/<HHmm>/<table>_<n>.csv`. */
export interface ExportPath {
  /** Blob name of the model.json describing this export (at the export-name level). */
  readonly modelName: string;
  readonly table: string;
  /** `yyyy/MM/dd/HHmm` of the run. */
  readonly run: string;
}

/** Reads the export path pattern from a blob name; undefined for a file dropped elsewhere (then it needs a header row). */
export function parseExportPath(name: string): ExportPath | undefined {
  const match = /^(.*?)([^/]+)\/(\d{4}\/\d{2}\/\d{2}\/\d{4})\/([^/]+)$/.exec(name);
  if (match === null) return undefined;
  const [, exportRoot = '', table = '', run = ''] = match;
  return { modelName: `${exportRoot}model.json`, table, run };
}

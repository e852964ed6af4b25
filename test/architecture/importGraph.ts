import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** Source text by project-relative POSIX path (`src/pacing/decidePacing.ts`). */
export type SourceFiles = ReadonlyMap<string, string>;

/** One module specifier in one file. `target` is the project path for relative specifiers, undefined for packages. */
export interface ImportEdge {
  readonly file: string;
  readonly specifier: string;
  readonly target: string | undefined;
}

/** An import direction rule: which files it governs and which of their imports it accepts. */
export interface ImportRule {
  readonly appliesTo: (file: string) => boolean;
  readonly allows: (edge: ImportEdge) => boolean;
}

const SOURCE_FILE = /\.[cm]?tsx?$/;

/** Reads every TypeScript file under `folders` (project-relative) into a map keyed by project path. */
export function readSources(projectRoot: string, folders: readonly string[]): SourceFiles {
  const files = new Map<string, string>();
  for (const folder of folders) {
    const entries = readdirSync(join(projectRoot, folder), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile() || !SOURCE_FILE.test(entry.name)) continue;
      const absolute = join(entry.parentPath, entry.name);
      files.set(relative(projectRoot, absolute).split(sep).join('/'), readFileSync(absolute, 'utf8'));
    }
  }
  return files;
}

/**
 * Every module specifier a file names, type-only ones included: a type import still couples the
 * importer to the imported module's folder, which is what the boundaries are about. Dynamic
 * `import()` with a computed argument cannot be resolved statically and is not reported.
 */
export function moduleSpecifiers(path: string, text: string): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) found.push(expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined && ts.isStringLiteralLike(argument)) found.push(argument.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The project path a relative specifier names: the source file when it is one of `files` (NodeNext
 * specifiers say `.js` for a `.ts` file), else the normalised path as written, so an import of a
 * folder that is not in `files` (a top-level `dev/`) is still matched by path.
 */
export function resolveSpecifier(file: string, specifier: string, files: SourceFiles): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const path = posix.normalize(posix.join(posix.dirname(file), specifier));
  const stem = path.replace(/\.([cm]?)jsx?$/, '.$1ts');
  const candidates = [stem, stem.replace(/ts$/, 'tsx'), path, `${path}.ts`, `${path}/index.ts`];
  return candidates.find((candidate) => files.has(candidate)) ?? path;
}

export function importEdges(files: SourceFiles): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const [file, text] of files) {
    for (const specifier of moduleSpecifiers(file, text)) {
      edges.push({ file, specifier, target: resolveSpecifier(file, specifier, files) });
    }
  }
  return edges;
}

/** The imports that break `rule`, in file order. */
export function findViolations(files: SourceFiles, rule: ImportRule): ImportEdge[] {
  return importEdges(files).filter((edge) => rule.appliesTo(edge.file) && !rule.allows(edge));
}

/** `file -> specifier`, one per line, for a failure message. */
export function describeViolations(violations: readonly ImportEdge[]): string {
  return violations.map((v) => `  ${v.file} -> ${v.specifier}${v.target !== undefined && v.target !== v.specifier ? ` (${v.target})` : ''}`).join('\n');
}

/** True when `path` is `folder` itself or inside it (`folder` without a trailing slash). */
export function isUnder(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}

import { normalizePhone } from '../planning/normalizePhone.js';
import type { FieldIssue } from '../errors.js';

/** A do-not-contact entry as the management API takes it: an E.164 number or a contact id. */
export type DoNotContactEntry = { readonly phone: string; readonly reason?: string } | { readonly contactId: string; readonly reason?: string };

export interface ParsedCsv {
  readonly entries: DoNotContactEntry[];
  readonly issues: FieldIssue[];
}

/** Rows in one import; more is a 413 (a larger list goes in several files). */
export const DNC_IMPORT_MAX_ROWS = 50_000;

/**
 * Parses a do-not-contact CSV: a header row naming `phone` and/or `contactId` (and optionally
 * `reason`), or no header and one number per line. Quoted fields ("a, b") are accepted. Numbers in
 * national format are read in `defaultCountry`. Every bad row is reported (line numbers from 1).
 */
export function parseDoNotContactCsv(text: string, defaultCountry: string): ParsedCsv {
  const lines = text.split(/\r?\n/);
  const entries: DoNotContactEntry[] = [];
  const issues: FieldIssue[] = [];
  const first = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const hasHeader = first.includes('phone') || first.includes('contactid');
  const col = (name: string) => (hasHeader ? first.indexOf(name) : name === 'phone' ? 0 : -1);
  const [phoneCol, contactCol, reasonCol] = [col('phone'), col('contactid'), col('reason')];
  lines.forEach((line, i) => {
    if ((hasHeader && i === 0) || line.trim() === '') return;
    const cells = splitCsvLine(line).map((c) => c.trim());
    const reason = reasonCol >= 0 && cells[reasonCol] ? { reason: cells[reasonCol] } : {};
    const rawPhone = phoneCol >= 0 ? (cells[phoneCol] ?? '') : '';
    const contactId = contactCol >= 0 ? (cells[contactCol] ?? '') : '';
    if (rawPhone !== '') {
      const checked = normalizePhone(rawPhone, defaultCountry);
      if (checked.ok) entries.push({ phone: checked.e164, ...reason });
      else issues.push({ path: `line ${i + 1}.phone`, message: `${checked.reason} (default country ${defaultCountry})` });
    } else if (contactId !== '') {
      entries.push({ contactId, ...reason });
    } else {
      issues.push({ path: `line ${i + 1}`, message: 'expected a phone number or a contact id' });
    }
  });
  return { entries, issues };
}

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

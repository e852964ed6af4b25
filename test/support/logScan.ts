/**
 * What must never appear in anything the tests log: phone numbers (E.164 and the national forms the
 * fixtures use), the fixtures' people, bearer tokens and JWTs, SAS keys and connection strings. The
 * scan runs over the whole test run's captured output (logCapture.ts, globalSetup.ts).
 */
export interface Leak {
  readonly kind: string;
  /** The matched text, masked: the report itself must not repeat the leak. */
  readonly masked: string;
  readonly line: string;
}

/** Names the fixtures give people (firstName / lastName), as whole words. */
export const FIXTURE_NAMES = ['Ana', 'Ada', 'Avery', 'Raj', 'Nguyen', 'Tester'] as const;

const PATTERNS: readonly (readonly [string, RegExp])[] = [
  ['phone number (E.164)', /(?<![\w+])\+[1-9]\d{7,14}(?!\d)/g],
  ['phone number (national)', /(?<!\d)\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\d)/g],
  ['name', new RegExp(`\\b(?:${FIXTURE_NAMES.join('|')})\\d*\\b`, 'g')],
  ['bearer token', /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/gi],
  ['JWT', /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g],
  ['SAS key', /\b(?:SharedAccessKey|SharedAccessSignature|AccountKey)\s*=\s*[^;\s"']{8,}/gi],
  ['SAS signature', /[?&]sig=[A-Za-z0-9%/+=]{16,}/g],
  ['connection string', /\bEndpoint=sb:\/\/[^;\s]+;[^\s"']*/gi],
];

function mask(text: string): string {
  return text.length <= 4 ? '****' : `${text.slice(0, 2)}${'*'.repeat(Math.min(text.length - 4, 12))}${text.slice(-2)}`;
}

/** Every leak in `lines`, each reported with its line masked. */
export function findLeaks(lines: readonly string[]): Leak[] {
  const leaks: Leak[] = [];
  for (const line of lines) {
    const found: { kind: string; text: string }[] = [];
    for (const [kind, pattern] of PATTERNS) for (const match of line.matchAll(pattern)) found.push({ kind, text: match[0] });
    if (found.length === 0) continue;
    const masked = found.reduce((l, f) => l.replaceAll(f.text, mask(f.text)), line).slice(0, 300);
    for (const f of found) leaks.push({ kind: f.kind, masked: mask(f.text), line: masked });
  }
  return leaks;
}

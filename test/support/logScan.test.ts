import { describe, expect, it } from 'vitest';
import { findLeaks } from './logScan.js';

describe('the log scan', () => {
  it.each([
    ['phone number (E.164)', 'dialing +12125550100 now'],
    ['phone number (national)', 'call (212) 555-0100 back'],
    ['name', 'greeting Ana for renewals'],
    ['bearer token', 'authorization: Bearer abcdefghijklmnop.qrstu'],
    ['JWT', 'token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJl'],
    ['SAS key', 'Endpoint=x;SharedAccessKeyName=root;SharedAccessKey=c2VjcmV0LWtleS12YWx1ZQ=='],
    ['SAS key', 'AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUw=='],
    ['connection string', 'using Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root'],
  ])('finds a %s', (kind, line) => {
    const leaks = findLeaks([line]);
    expect(leaks.map((l) => l.kind)).toContain(kind);
    // The report masks what it found.
    for (const leak of leaks) expect(leak.line).not.toContain(line.match(/\+\d+|eyJ\S+|Ana|Bearer \S+/)?.[0] ?? '\u0000');
  });

  it.each([
    'delivery d-1001 attempt 2 at 2026-11-25T15:00:00.000Z',
    'contact-batch message t9df3a37dae7bacb78baae3b0405aa6e6-0-0 stored',
    'pacing tick: 12 calls, 1700000000000 ms',
    'engagement renewals: Analytics paused',
  ])('leaves an ordinary line alone: %s', (line) => {
    expect(findLeaks([line])).toEqual([]);
  });
});

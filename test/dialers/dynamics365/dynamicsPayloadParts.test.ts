import { describe, expect, it } from 'vitest';
import { bulkRequestId, dynamicsRequestId, uuidV5 } from '../../../src/dialers/dynamics365/dynamicsRequestId.js';
import { scrubPhoneNumbers } from '../../../src/dialers/dynamics365/scrubPhoneNumbers.js';
import { toWindowsTimeZone } from '../../../src/dialers/dynamics365/toWindowsTimeZone.js';

describe('uuidV5 / dynamicsRequestId', () => {
  it('matches the RFC 9562 test vector (DNS namespace, www.example.com)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives the same delivery attempt the same RequestId, and another attempt another one', () => {
    const first = dynamicsRequestId('d-42', 1);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(dynamicsRequestId('d-42', 1)).toBe(first);
    expect(dynamicsRequestId('d-42', 2)).not.toBe(first);
    expect(dynamicsRequestId('d-43', 1)).not.toBe(first);
  });

  it('bulk RequestId ignores member order but not membership', () => {
    const a = { deliveryId: 'a', attempt: 1 };
    const b = { deliveryId: 'b', attempt: 1 };
    expect(bulkRequestId([a, b])).toBe(bulkRequestId([b, a]));
    expect(bulkRequestId([a, b])).not.toBe(bulkRequestId([a]));
    expect(bulkRequestId([a])).not.toBe(dynamicsRequestId('a', 1));
  });
});

describe('toWindowsTimeZone', () => {
  it.each([
    ['America/Los_Angeles', 'Pacific Standard Time'],
    ['Asia/Kolkata', 'India Standard Time'],
    ['Europe/Paris', 'Romance Standard Time'],
    ['America/Sao_Paulo', 'E. South America Standard Time'],
    ['UTC', 'UTC'],
    // Renamed in IANA 2022; windows-iana only knows Europe/Kiev, ICU resolves the alias.
    ['Europe/Kyiv', 'FLE Standard Time'],
  ])('%s -> %s', (iana, windows) => {
    expect(toWindowsTimeZone(iana)).toBe(windows);
  });

  it('a valid IANA zone with no Windows counterpart (Antarctica/Troll) has no mapping', () => {
    expect(toWindowsTimeZone('Antarctica/Troll')).toBeUndefined();
  });

  it('a name that is not a zone has no mapping', () => {
    expect(toWindowsTimeZone('Mars/Olympus_Mons')).toBeUndefined();
  });
});

describe('scrubPhoneNumbers', () => {
  it('masks E.164 and formatted numbers down to their last two digits', () => {
    expect(scrubPhoneNumbers('Invalid phone number +14155550123.')).toBe('Invalid phone number +*********23.');
    expect(scrubPhoneNumbers('call (415) 555-0123 later')).toBe('call ********23 later');
  });

  it('leaves GUIDs, hex error codes and short numbers alone', () => {
    const text = 'Record 761e062f-c734-ef11-8e4f-00224808a166 failed with 0x80040265 after 3 tries (HTTP 400)';
    expect(scrubPhoneNumbers(text)).toBe(text);
  });
});

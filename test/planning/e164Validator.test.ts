import { getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile';
import metadata from 'libphonenumber-js/metadata.max';
import { describe, expect, it } from 'vitest';
import { checkE164 } from '../../src/planning/e164Validator.js';
import { normalizePhone, normalizePhoneUncached } from '../../src/planning/normalizePhone.js';

/** A small deterministic generator, so a failure names an input that reproduces. */
function generator(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) & 0x7fffffff;
    return Math.floor((state / 0x80000000) * n);
  };
}

const random = generator(20261129);
const digits = (count: number) => {
  let s = '';
  for (let i = 0; i < count; i++) s += String(random(10));
  return s;
};

const { country_calling_codes: byCallingCode, nonGeographic } = metadata as unknown as {
  country_calling_codes: Record<string, string[]>;
  nonGeographic: Record<string, unknown>;
};
const callingCodes = [...new Set([...Object.keys(byCallingCode), ...Object.keys(nonGeographic)])];

/**
 * Text of the validator's shape and its near misses: every calling code with every national length,
 * every country's example number with its national prefix, with digits changed and with its tail
 * renumbered (mostly valid), North American numbers across area codes (country by leading digits),
 * and random digit strings.
 */
function generatedNumbers(): string[] {
  const out: string[] = [];
  for (const code of callingCodes) {
    for (let length = 0; length <= 16; length++) for (let k = 0; k < 24; k++) out.push(`+${code}${digits(length)}`);
  }
  for (const [country, national] of Object.entries(examples as Record<string, string>)) {
    const code = getCountryCallingCode(country as CountryCode);
    const prefix = (metadata as unknown as { countries: Record<string, unknown[]> }).countries[country]?.[5];
    out.push(`+${code}${national}`, `+${code}${national}0`, `+${code}${national.slice(0, -1)}`);
    if (typeof prefix === 'string') out.push(`+${code}${prefix}${national}`);
    for (let k = 0; k < 60; k++) {
      const tail = 1 + random(Math.min(6, national.length));
      out.push(`+${code}${national.slice(0, -tail)}${digits(tail)}`);
    }
    for (let k = 0; k < 40; k++) {
      const at = random(national.length);
      out.push(`+${code}${national.slice(0, at)}${digits(1)}${national.slice(at + 1)}`);
    }
  }
  for (let k = 0; k < 20_000; k++) out.push(`+1${2 + random(8)}${digits(2)}${2 + random(8)}${digits(6)}`);
  for (let k = 0; k < 30_000; k++) out.push(`+${digits(1 + random(20))}`);
  return out;
}

const library = (text: string) => normalizePhoneUncached(text, 'US');

describe('the precompiled E.164 check answers exactly as libphonenumber-js (max metadata)', () => {
  it('on generated numbers of every calling code and length: same E.164 or the same refusal', () => {
    const numbers = generatedNumbers();
    let answered = 0;
    let valid = 0;
    const mismatches: string[] = [];
    for (const text of numbers) {
      const fast = checkE164(text);
      if (fast === undefined) continue;
      answered++;
      const expected = library(text);
      if (expected.ok) valid++;
      if (JSON.stringify(fast) !== JSON.stringify(expected)) mismatches.push(`${text}: ${JSON.stringify(fast)} != ${JSON.stringify(expected)}`);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    // The comparison covers both answers in bulk, not only refusals.
    expect(answered).toBeGreaterThan(100_000);
    expect(valid).toBeGreaterThan(30_000);
    expect(answered - valid).toBeGreaterThan(30_000);
  }, 300_000);

  it('national prefixes after the calling code are stripped (or kept) as the library does', () => {
    for (const text of ['+440201234567', '+4402079460000', '+3906123456', '+390612345678', '+7880012345678', '+5411512345678', '+52155123456789']) {
      expect(checkE164(text)).toEqual(library(text));
    }
    expect(checkE164('+442079460000')).toEqual({ ok: true, e164: '+442079460000' });
  });

  it('leaves other text to the library, and normalizePhone gives the library answer either way', () => {
    const others = [
      '2125550100',
      '(212) 555-0100',
      '+1 212 555 0100',
      '+1-212-555-0100',
      '+12125550100 ext. 12',
      'tel:+12125550100',
      '+012125550100',
      '+1212',
      '',
      'x',
    ];
    for (const text of others) expect(checkE164(text)).toBeUndefined();
    for (const text of [...others, '+12125550100', '+12125550000', '+18005550100', '+441632960000']) {
      for (const country of ['US', 'GB', 'DE']) expect(normalizePhone(text, country)).toEqual(normalizePhoneUncached(text, country));
    }
  });
});

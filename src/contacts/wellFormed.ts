/**
 * Lone UTF-16 surrogates cannot be encoded as UTF-8: Table Storage and Service Bus refuse them (or
 * replace them) and a key built from one matches nothing. `String.prototype.isWellFormed` is ES2024;
 * these are the same checks for the ES2022 library the project compiles against.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isWellFormed(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/** Replaces each lone surrogate with U+FFFD, as `toWellFormed` does. */
export function toWellFormed(value: string): string {
  return value.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd');
}

/**
 * Table Storage forbids `/ \ # ?` and control characters in keys. Ids from Customer Insights can hold
 * anything, so those characters (and `%`, to keep the mapping reversible) are percent-encoded.
 */
export function toTableKey(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[%/\\#?\u0000-\u001f\u007f-\u009f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function fromTableKey(key: string): string {
  return key.replace(/%([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Escapes a value for a single-quoted OData string literal in a Table Storage filter. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

import { UserError } from '../errors.js';

/**
 * Reads a request body into memory, stopping as soon as it passes `maxBytes` (413): for bodies that
 * must be seen whole before they are parsed, such as a signed request whose signature covers the bytes.
 */
export async function readBodyBytes(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Buffer> {
  if (body === null) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new UserError('PayloadTooLarge', `the body may be at most ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

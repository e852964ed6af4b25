import { randomUUID } from 'node:crypto';

/**
 * A peek-lock token. On the wire it is the 16-byte delivery tag; the SDK reverses the first three
 * GUID groups of the tag (.NET byte order) before printing it as a uuid, and sends that uuid back in
 * `$management` requests. The broker keys locks by that printed form, so both paths find the lock.
 */
export interface LockToken {
  /** The uuid the client shows as `message.lockToken` and sends in renew-lock / update-disposition. */
  readonly id: string;
  /** The delivery tag that makes the client print `id`. */
  readonly tag: Buffer;
}

/** Reverses the byte order of the first three GUID groups; its own inverse. */
export function swapGuidByteOrder(bytes: Buffer): Buffer {
  if (bytes.length !== 16) throw new Error(`a lock token has 16 bytes, got ${bytes.length}`);
  const out = Buffer.from(bytes);
  out.writeUInt32LE(bytes.readUInt32BE(0), 0);
  out.writeUInt16LE(bytes.readUInt16BE(4), 4);
  out.writeUInt16LE(bytes.readUInt16BE(6), 6);
  return out;
}

export function uuidFromBytes(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a uuid: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

export function newLockToken(): LockToken {
  const id = randomUUID();
  return { id, tag: swapGuidByteOrder(uuidToBytes(id)) };
}

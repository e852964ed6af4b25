import { createHash } from 'node:crypto';

/**
 * Namespace of every RequestId this connector sends to Dynamics 365. Fixed forever: changing it
 * would give a retried delivery a new RequestId, so D365 (and anyone reading msdyn_proactive_delivery
 * or CCaaS_GetDeliveryTasks) could no longer recognise it as the same request.
 */
export const REQUEST_ID_NAMESPACE = 'eec4ee06-1f40-4e38-9399-1a09fd06cb16';

/** RFC 9562 name-based UUID, version 5 (SHA-1). */
export function uuidV5(name: string, namespace: string): string {
  const namespaceBytes = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  if (namespaceBytes.length !== 16) throw new Error(`uuidV5: namespace must be a UUID, got "${namespace}"`);
  const hash = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The RequestId of one delivery attempt: the same (deliveryId, attempt) always gives the same id. */
export function dynamicsRequestId(deliveryId: string, attempt: number): string {
  return uuidV5(`delivery\n${deliveryId}\n${attempt}`, REQUEST_ID_NAMESPACE);
}

/**
 * The RequestId of one bulk request: derived from its members regardless of their order, so a retry
 * of the same chunk carries the same id and a different chunk never does.
 */
export function bulkRequestId(members: ReadonlyArray<{ readonly deliveryId: string; readonly attempt: number }>): string {
  const keys = members.map((m) => `${m.deliveryId}\n${m.attempt}`).sort();
  return uuidV5(`bulk\n${keys.join('\n')}`, REQUEST_ID_NAMESPACE);
}

import type { Socket } from 'node:net';
import rhea, { type Connection, type Delivery, type Receiver, type Sender } from 'rhea';

/**
 * Typed views of the parts of rhea 3.0.x the broker relies on that its typings leave out. rhea is a
 * client library first; serving the Service Bus SDK needs its codec, credit counters and a few
 * per-connection hooks. Everything here was read from rhea/lib (link.js, session.js, connection.js,
 * types.js); each use says why it is needed.
 */

/** A decoded AMQP value as rhea's Reader returns it. */
export interface TypedValue {
  readonly value: unknown;
  readonly descriptor?: { readonly value: unknown };
}

export interface AmqpReader {
  position: number;
  read(): TypedValue;
  remaining(): number;
}

export interface AmqpWriter {
  write(value: unknown): void;
  toBuffer(): Buffer;
}

const codec = rhea.types as unknown as {
  Reader: new (buffer: Buffer) => AmqpReader;
  Writer: new () => AmqpWriter;
};

/** rhea's decoder, which the typings declare but do not expose on `types`. */
export function amqpReader(buffer: Buffer): AmqpReader {
  return new codec.Reader(buffer);
}

export function amqpWriter(): AmqpWriter {
  return new codec.Writer();
}

/** Fields of rhea's outgoing link that carry AMQP flow state. */
export interface SenderInternals {
  /** Credit left after transfers already written; rhea decrements it only when a transfer hits the socket. */
  credit: number;
  /** Transfers written plus credit consumed by a drain, in AMQP delivery-count space. */
  delivery_count: number;
  /** The peer's last flow asked to drain. */
  _draining: boolean;
  _drained: boolean;
  /** Called when rhea writes a flow for the link: true adds drain=true and consumes the remaining credit. */
  _get_drain(): boolean;
  session: { outgoing: { available(): number } };
  connection: { _register(): void };
  local: { attach: LocalAttach };
}

/** The attach frame rhea will send for a link the peer opened; set before the next tick to shape the reply. */
export interface LocalAttach {
  source?: unknown;
  target?: unknown;
  snd_settle_mode?: number;
  rcv_settle_mode?: number;
  max_message_size?: number;
  properties?: unknown;
}

export function senderInternals(sender: Sender): SenderInternals {
  return sender as unknown as SenderInternals;
}

export function localAttach(link: Sender | Receiver): LocalAttach {
  return (link as unknown as { local: { attach: LocalAttach } }).local.attach;
}

/** rhea's transfer frame as it reaches the connection, before the session decodes the message. */
interface TransferFrame {
  performative: { message_format?: number | null; delivery_id?: number };
}

interface ConnectionInternals {
  on_transfer(frame: TransferFrame): void;
  abort_socket(socket: Socket): void;
  socket?: Socket;
}

/**
 * A message format no client uses, put on incoming single-message transfers so rhea hands the broker
 * the raw bytes (it only decodes format 0). Decoding and re-encoding would change number types
 * (an int property can come back as a uint); the raw bytes round-trip exactly.
 */
export const RAW_MESSAGE_FORMAT = 0x4c4f4341;

export function deliverRawTransfers(connection: Connection): void {
  const internals = connection as unknown as ConnectionInternals;
  const original = internals.on_transfer.bind(connection);
  internals.on_transfer = (frame) => {
    // message-format is optional on the wire and defaults to 0.
    const format = frame.performative.message_format;
    if (format === 0 || format === undefined || format === null) frame.performative.message_format = RAW_MESSAGE_FORMAT;
    original(frame);
  };
}

/** Ends a connection's socket and runs rhea's disconnect path, which clears its heartbeat timers. */
export function abortConnection(connection: Connection): void {
  const internals = connection as unknown as ConnectionInternals;
  if (internals.socket !== undefined) internals.abort_socket(internals.socket);
}

/** The parts of a rhea outgoing delivery the broker reads when a client settles it. */
export interface DeliveryInternals {
  readonly remote_state?: { readonly constructor: { readonly composite_type?: string }; readonly [field: string]: unknown };
}

export function deliveryState(delivery: Delivery): DeliveryInternals['remote_state'] {
  return (delivery as unknown as DeliveryInternals).remote_state;
}

interface OutcomeFactory {
  (fields?: Record<string, unknown>): { described(): unknown };
}

const outcomeFactories = rhea.message as unknown as {
  accepted: OutcomeFactory;
  released: OutcomeFactory;
  rejected: OutcomeFactory;
  modified: OutcomeFactory;
};

/**
 * Delivery states for settling an outgoing delivery (rhea only offers accept/reject helpers on
 * incoming ones). The SDK fails a settlement whose echoed outcome carries an error, so only a lost
 * lock or a refused operation is echoed with one.
 */
export const outcomes = {
  accepted: (): unknown => outcomeFactories.accepted().described(),
  released: (): unknown => outcomeFactories.released().described(),
  modified: (undeliverableHere: boolean): unknown => outcomeFactories.modified({ delivery_failed: true, undeliverable_here: undeliverableHere }).described(),
  rejected: (error?: { condition: string; description: string }): unknown => outcomeFactories.rejected(error === undefined ? {} : { error }).described(),
};

/**
 * Settles an outgoing delivery and lets rhea forget it. rhea frees a slot of the session's delivery
 * ring only once the peer has settled too, but a receiver in `second` settle mode (peek-lock) never
 * sends that final settle: without this the ring fills after `session_buffer_size` deliveries and
 * the link stalls.
 */
export function settleOutgoing(delivery: Delivery, state: unknown): void {
  delivery.update(true, state);
  (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
}

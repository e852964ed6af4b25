import rhea, { type Connection, type EventContext, type Receiver, type Sender } from 'rhea';
import {
  AmqpConditionError,
  CONDITION_CONNECTION_FORCED,
  CONDITION_INTERNAL_ERROR,
  CONDITION_NOT_ALLOWED,
  describeError,
  entityNotFound,
  sessionsNotSupported,
} from './amqpConditionError.js';
import { ConsumerLink } from './consumerLink.js';
import { MANAGEMENT_SUFFIX, type EntityRegistry } from './entityRegistry.js';
import { handleManagementRequest, type ManagementReply } from './management.js';
import { ProducerLink } from './producerLink.js';
import { DEAD_LETTER_SUFFIX, type QueueStore } from './queueStore.js';
import { deliverRawTransfers, localAttach } from './rheaInternals.js';
import type { Lock, LockHolder } from './storedMessage.js';

export const CBS_ADDRESS = '$cbs';
const SESSION_FILTER = 'com.microsoft:session-filter';
/** What Service Bus answers to a put-token request. */
const CBS_ACCEPTED = 202;

export interface BrokerContext {
  readonly registry: EntityRegistry;
  readonly maxMessageSizeBytes: number;
  readonly log: (line: string) => void;
}

function addressOf(terminus: { address?: string } | null | undefined): string {
  return terminus?.address ?? '';
}

function hasSessionFilter(filter: unknown): boolean {
  return typeof filter === 'object' && filter !== null && Object.hasOwn(filter, SESSION_FILTER);
}

/**
 * One client connection: routes the links it attaches (CBS, `$management`, send, receive), answers
 * request/response traffic, and owns the peek-locks taken over it, so that losing the connection
 * releases them for redelivery.
 */
export class BrokerConnection implements LockHolder {
  readonly locks = new Set<Lock>();
  /** Client receive links for replies, by link NAME: requests name the link in `reply_to`. */
  private readonly replyLinks = new Map<string, Sender>();
  private readonly consumers = new Set<ConsumerLink>();
  private ended = false;
  private readonly endedPromise: Promise<void>;
  private resolveEnded: () => void = () => undefined;

  constructor(
    readonly connection: Connection,
    readonly label: string,
    private readonly context: BrokerContext,
  ) {
    this.endedPromise = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  /** Resolves once the connection is gone and its locks are released. */
  get whenEnded(): Promise<void> {
    return this.endedPromise;
  }

  start(): void {
    deliverRawTransfers(this.connection);
    const c = this.connection;
    c.on('sender_open', (context: EventContext) => this.guard('attach', () => this.onClientReceiver(context)));
    c.on('receiver_open', (context: EventContext) => this.guard('attach', () => this.onClientSender(context)));
    c.on('session_close', (context: EventContext) => this.onSessionClose(context));
    // Handled (nothing to do) so rhea does not raise a client's link or session error on the container.
    for (const event of ['sender_close', 'receiver_close', 'sender_error', 'receiver_error', 'session_error'] as const) {
      c.on(event, () => undefined);
    }
    c.on('connection_close', () => this.end('closed by client'));
    c.on('connection_error', () => this.end('closed by client with an error'));
    c.on('disconnected', () => this.end('disconnected'));
    c.on('error', (context: EventContext) => this.context.log(`${this.label}: ${describeError(context.error)}`));
    c.on('protocol_error', (context: EventContext) => this.context.log(`${this.label}: protocol error ${describeError(context.error)}`));
  }

  private guard(what: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      this.context.log(`${this.label}: ${what} failed: ${describeError(error)}`);
    }
  }

  /** The client opened a receive link: CBS or management replies, or messages from a queue. */
  private onClientReceiver(context: EventContext): void {
    const sender = context.sender;
    if (sender === undefined) return;
    const address = addressOf(sender.source);
    const attach = localAttach(sender);
    sender.set_target({ address: addressOf(sender.target) });
    if (address === CBS_ADDRESS || address.toLowerCase().endsWith(MANAGEMENT_SUFFIX)) {
      if (address !== CBS_ADDRESS && this.context.registry.resolve(address.slice(0, -MANAGEMENT_SUFFIX.length)) === undefined) {
        this.refuse(sender, entityNotFound(address.slice(0, -MANAGEMENT_SUFFIX.length)));
        return;
      }
      sender.set_source({ address });
      this.replyLinks.set(sender.name, sender);
      sender.on('sender_close', () => this.replyLinks.delete(sender.name));
      return;
    }
    const store = this.context.registry.resolve(address);
    if (store === undefined) {
      this.refuse(sender, entityNotFound(address));
      return;
    }
    if (hasSessionFilter(sender.source?.filter)) {
      this.refuse(sender, sessionsNotSupported(address));
      return;
    }
    // rhea does not copy the peer's settle modes onto links it accepts; the SDK's mode lives there.
    attach.snd_settle_mode = sender.snd_settle_mode;
    attach.rcv_settle_mode = sender.rcv_settle_mode;
    sender.set_source({ address });
    const receiveAndDelete = sender.snd_settle_mode === 1;
    const consumer = new ConsumerLink(sender, store, this, receiveAndDelete, this.context.log);
    this.consumers.add(consumer);
    sender.on('sender_close', () => this.consumers.delete(consumer));
    consumer.start();
    this.context.log(`${this.label}: receiver ${sender.name} on ${store.name} (${receiveAndDelete ? 'receiveAndDelete' : 'peekLock'})`);
  }

  /** The client opened a send link: CBS or management requests, or messages to a queue. */
  private onClientSender(context: EventContext): void {
    const receiver = context.receiver;
    if (receiver === undefined) return;
    const address = addressOf(receiver.target);
    receiver.set_source({ address: addressOf(receiver.source) });
    if (address === CBS_ADDRESS) {
      receiver.set_target({ address });
      receiver.on('message', (ctx: EventContext) => this.guard('CBS request', () => this.onCbsRequest(ctx)));
      return;
    }
    if (address.toLowerCase().endsWith(MANAGEMENT_SUFFIX)) {
      const entity = address.slice(0, -MANAGEMENT_SUFFIX.length);
      const store = this.context.registry.resolve(entity);
      if (store === undefined) {
        this.refuse(receiver, entityNotFound(entity));
        return;
      }
      receiver.set_target({ address });
      receiver.on('message', (ctx: EventContext) => this.guard('management request', () => this.onManagementRequest(ctx, store)));
      return;
    }
    if (address.toLowerCase().endsWith(DEAD_LETTER_SUFFIX.toLowerCase())) {
      this.refuse(receiver, new AmqpConditionError(CONDITION_NOT_ALLOWED, `Cannot send to the dead-letter queue '${address}'.`));
      return;
    }
    const store = this.context.registry.queue(address);
    if (store === undefined) {
      this.refuse(receiver, entityNotFound(address));
      return;
    }
    receiver.set_target({ address });
    // Without max_message_size the SDK's batches have no size limit and sending them fails obscurely.
    localAttach(receiver).max_message_size = this.context.maxMessageSizeBytes;
    new ProducerLink(receiver, store, this.context.maxMessageSizeBytes, this.context.log).start();
    this.context.log(`${this.label}: sender ${receiver.name} on ${store.name}`);
  }

  /** Answers the attach with no terminus, then detaches with the error: what Service Bus does. */
  private refuse(link: Sender | Receiver, error: AmqpConditionError): void {
    const attach = localAttach(link);
    attach.source = null;
    attach.target = null;
    link.close(error.toAmqp());
    this.context.log(`${this.label}: refused link ${link.name}: ${error.condition}`);
  }

  private onCbsRequest(context: EventContext): void {
    const request = this.decodeRequest(context);
    if (request === undefined) return;
    // Tokens are not checked: the emulator's well-known key is the only credential anyone uses locally.
    this.reply(request.replyTo, request.messageId, { statusCode: CBS_ACCEPTED, description: 'Accepted' });
  }

  private onManagementRequest(context: EventContext, store: QueueStore): void {
    const request = this.decodeRequest(context);
    if (request === undefined) return;
    let reply: ManagementReply;
    try {
      reply = handleManagementRequest(
        { operation: request.operation, body: request.body },
        { store, holder: this, maxMessageSizeBytes: this.context.maxMessageSizeBytes },
      );
    } catch (error) {
      const amqp = error instanceof AmqpConditionError ? error : new AmqpConditionError(CONDITION_INTERNAL_ERROR, describeError(error));
      if (!(error instanceof AmqpConditionError)) {
        this.context.log(`${this.label}: ${request.operation} on ${store.name} failed: ${amqp.description}`);
      }
      reply = { statusCode: amqp.statusCode, description: amqp.description, condition: amqp.condition };
    }
    this.reply(request.replyTo, request.messageId, reply);
  }

  private decodeRequest(context: EventContext): { operation: string; replyTo: string; messageId: unknown; body: unknown } | undefined {
    const delivery = context.delivery;
    const raw: unknown = context.message;
    if (delivery === undefined || !Buffer.isBuffer(raw)) return undefined;
    delivery.accept();
    const message = rhea.message.decode(raw);
    const properties: unknown = message['application_properties'];
    const operation = typeof properties === 'object' && properties !== null && 'operation' in properties ? properties.operation : undefined;
    const replyTo: unknown = message['reply_to'];
    if (typeof replyTo !== 'string') {
      this.context.log(`${this.label}: a request without reply_to was dropped`);
      return undefined;
    }
    return {
      operation: typeof operation === 'string' ? operation : '',
      replyTo,
      messageId: message['message_id'],
      body: message['body'],
    };
  }

  private reply(replyTo: string, messageId: unknown, reply: ManagementReply): void {
    const link = this.replyLinks.get(replyTo);
    if (link === undefined || !link.is_open()) {
      this.context.log(`${this.label}: no open reply link named ${replyTo}; reply dropped`);
      return;
    }
    const applicationProperties: Record<string, unknown> = {
      // The SDK reads `status-code` for CBS and request/response, and `statusCode` for peek's 204.
      'status-code': reply.statusCode,
      statusCode: reply.statusCode,
      'status-description': reply.description,
    };
    if (reply.condition !== undefined) applicationProperties['error-condition'] = reply.condition;
    const bytes = rhea.message.encode({
      correlation_id: messageId,
      application_properties: applicationProperties,
      body: reply.body === undefined ? {} : reply.body,
    });
    link.send(bytes, undefined, 0);
  }

  private onSessionClose(context: EventContext): void {
    // A client may end a session without detaching its links first; those links are gone with it.
    const session = context.session;
    for (const consumer of this.consumers) {
      if (consumer.sender.session === session) {
        consumer.close();
        this.consumers.delete(consumer);
      }
    }
    for (const [name, link] of this.replyLinks) {
      if (link.session === session) this.replyLinks.delete(name);
    }
  }

  /** Connection gone: stop delivering and release every lock it held, so the messages are redelivered. */
  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const consumer of this.consumers) consumer.close();
    this.consumers.clear();
    this.replyLinks.clear();
    const locks = [...this.locks];
    for (const lock of locks) lock.store.releaseLock(lock);
    this.locks.clear();
    this.context.log(`${this.label}: ${reason}${locks.length > 0 ? `, released ${locks.length} lock(s)` : ''}`);
    this.resolveEnded();
  }

  /** Closes the connection from the broker side (stop). */
  close(description: string): void {
    if (this.ended) return;
    this.connection.close({ condition: CONDITION_CONNECTION_FORCED, description });
  }
}

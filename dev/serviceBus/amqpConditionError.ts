/** AMQP error conditions the SDK maps to its error codes (core-amqp ConditionErrorNameMapper). */
export const CONDITION_NOT_FOUND = 'amqp:not-found';
export const CONDITION_NOT_IMPLEMENTED = 'amqp:not-implemented';
export const CONDITION_NOT_ALLOWED = 'amqp:not-allowed';
export const CONDITION_INTERNAL_ERROR = 'amqp:internal-error';
export const CONDITION_MESSAGE_SIZE_EXCEEDED = 'amqp:link:message-size-exceeded';
export const CONDITION_MESSAGE_LOCK_LOST = 'com.microsoft:message-lock-lost';
export const CONDITION_MESSAGE_NOT_FOUND = 'com.microsoft:message-not-found';
export const CONDITION_ARGUMENT_ERROR = 'com.microsoft:argument-error';
export const CONDITION_DEAD_LETTER = 'com.microsoft:dead-letter';
export const CONDITION_CONNECTION_FORCED = 'amqp:connection:forced';

/** HTTP-like status codes `$management` replies carry for each condition (core-amqp ConditionStatusMapper). */
const STATUS_BY_CONDITION: Readonly<Record<string, number>> = {
  [CONDITION_NOT_FOUND]: 404,
  [CONDITION_NOT_IMPLEMENTED]: 501,
  [CONDITION_NOT_ALLOWED]: 400,
  [CONDITION_MESSAGE_SIZE_EXCEEDED]: 403,
  [CONDITION_MESSAGE_LOCK_LOST]: 410,
  [CONDITION_MESSAGE_NOT_FOUND]: 404,
  [CONDITION_ARGUMENT_ERROR]: 400,
};

/** An error the broker reports to a client as an AMQP error (link detach, rejected outcome or `$management` status). */
export class AmqpConditionError extends Error {
  override readonly name = 'AmqpConditionError';

  constructor(
    readonly condition: string,
    readonly description: string,
  ) {
    super(description);
  }

  get statusCode(): number {
    return STATUS_BY_CONDITION[this.condition] ?? 500;
  }

  toAmqp(): { condition: string; description: string } {
    return { condition: this.condition, description: this.description };
  }
}

/** The description text is what core-amqp matches to report `MessagingEntityNotFound`. */
export function entityNotFound(entity: string): AmqpConditionError {
  return new AmqpConditionError(
    CONDITION_NOT_FOUND,
    `The messaging entity '${entity}' could not be found. Declare it in the local broker's config (UserConfig.Namespaces[0].Queues).`,
  );
}

export function lockLost(lockTokenId: string): AmqpConditionError {
  return new AmqpConditionError(
    CONDITION_MESSAGE_LOCK_LOST,
    `The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue (lock token ${lockTokenId}).`,
  );
}

export function sessionsNotSupported(entity: string): AmqpConditionError {
  return new AmqpConditionError(
    CONDITION_NOT_IMPLEMENTED,
    `Sessions are not supported by the local Service Bus broker (entity '${entity}'); use Azure Service Bus or the official emulator for session receivers.`,
  );
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Dataverse asked not to be called before `until` (epoch ms): a 429's Retry-After, or a 5xx burst's backoff. */
export interface ThrottleState {
  readonly until: number;
  /** What caused it ("HTTP 429 from CCaaS_CreateProactiveDeliveryBulkV2"); never data. */
  readonly reason: string;
}

/**
 * Service protection state of one Dataverse organisation, shared by every pacing tick and instance,
 * so a throttled organisation is not called again, by anyone, before it allows. Production keeps it
 * in Table Storage (`TableThrottleStore`); `extend` never shortens a wait another instance recorded.
 */
export interface ThrottleStore {
  get(): Promise<ThrottleState | undefined>;
  extend(state: ThrottleState): Promise<void>;
}

/** One process only (tests, single-instance runs). */
export class InMemoryThrottleStore implements ThrottleStore {
  private state: ThrottleState | undefined;

  get(): Promise<ThrottleState | undefined> {
    return Promise.resolve(this.state);
  }

  extend(state: ThrottleState): Promise<void> {
    if (this.state === undefined || this.state.until < state.until) this.state = state;
    return Promise.resolve();
  }
}

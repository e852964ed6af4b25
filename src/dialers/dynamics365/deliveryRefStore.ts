/** What Dynamics 365 gave back for one delivery attempt we handed over. */
export interface DeliveryRef {
  readonly attempt: number;
  /** The `backendRef` reported in the DialSubmission. */
  readonly backendRef: string;
  /** CCaaS_CancelDeliveryTask's key; absent for bulk submissions, whose response names no task. */
  readonly deliveryTaskId?: string;
  /**
   * The contact's uniqueIdentifier as sent. A bulk delivery's row in msdyn_proactive_deliveries is
   * found by its batch (the bulk RequestId) and this id; absent on refs stored before it was kept.
   */
  readonly contactId?: string;
}

/**
 * Remembers, per delivery id, the attempt already handed to Dynamics 365 and what D365 called it.
 * Two jobs: `dial` answers a repeat of the same (deliveryId, attempt) from here instead of creating
 * a second D365 delivery, and `cancel` finds the DeliveryTaskId the cancel action needs.
 *
 * Production should back this with durable storage (a Table Storage entity per delivery) so both
 * survive restarts and scale-out; the in-memory store only covers one process.
 */
export interface DeliveryRefStore {
  get(deliveryId: string): Promise<DeliveryRef | undefined>;
  put(deliveryId: string, ref: DeliveryRef): Promise<void>;
  delete(deliveryId: string): Promise<void>;
}

/** Process-local store, bounded: when full, the oldest entries are forgotten first. */
export class InMemoryDeliveryRefStore implements DeliveryRefStore {
  private readonly refs = new Map<string, DeliveryRef>();

  constructor(private readonly maxEntries = 100_000) {}

  get(deliveryId: string): Promise<DeliveryRef | undefined> {
    return Promise.resolve(this.refs.get(deliveryId));
  }

  put(deliveryId: string, ref: DeliveryRef): Promise<void> {
    this.refs.delete(deliveryId);
    this.refs.set(deliveryId, ref);
    while (this.refs.size > this.maxEntries) {
      const oldest = this.refs.keys().next();
      if (oldest.done === true) break;
      this.refs.delete(oldest.value);
    }
    return Promise.resolve();
  }

  delete(deliveryId: string): Promise<void> {
    this.refs.delete(deliveryId);
    return Promise.resolve();
  }
}

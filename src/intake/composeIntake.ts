import { composeFoundation } from '../app/composeFoundation.js';
import type { Composed, CompositionContext } from '../app/registry.js';
import { AcceptedTriggerStore } from '../store/contacts/acceptedTriggerStore.js';
import { IntakeService, type AcceptedTrigger } from './intakeService.js';

/** The intake capability: the service its HTTP functions share, and the request limits they enforce. */
export interface Intake {
  readonly intake: IntakeService;
  /** Most journey events in one request (INTAKE_MAX_EVENTS). */
  readonly maxEvents: number;
  /** Most members in one segment page or preview request (INTAKE_MAX_PAGE_SIZE). */
  readonly maxPageSize: number;
}

export async function composeIntake(context: CompositionContext): Promise<Composed<Intake>> {
  const { settings, catalog, tables, serviceBus, doNotContact, ledger, pending, clock } = await context.use(composeFoundation);
  const intake = new IntakeService({
    catalog,
    doNotContact,
    ledger,
    pending,
    // Closed with the Service Bus client, which closes every sender it created.
    sender: serviceBus.createSender(settings.CONTACT_BATCHES_QUEUE),
    batchMaxContacts: settings.BATCH_MAX_CONTACTS,
    acceptedTriggers: new AcceptedTriggerStore<AcceptedTrigger>(tables),
    clock,
  });
  return { value: { intake, maxEvents: settings.INTAKE_MAX_EVENTS, maxPageSize: settings.INTAKE_MAX_PAGE_SIZE } };
}

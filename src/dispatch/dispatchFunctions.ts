import type { HttpFunctionOptions, InvocationContext, ServiceBusQueueFunctionOptions, TimerFunctionOptions } from '@azure/functions';
import { appRegistry } from '../app/registry.js';
import { composeDispatch, type Dispatch } from './composeDispatch.js';
import { callEventsHandler, deliveryAcceptHandler, engagementRestartHandler, engagementStatusHandler } from './dispatchHttp.js';
import { ensureError } from '../errors.js';
import { recordTickMetrics } from './recordTickMetrics.js';
import { runPacingTick } from './runPacingTick.js';
import { storeContactBatches, type BatchMetadata } from './storeContactBatches.js';

const dispatch = (): Promise<Dispatch> => appRegistry.use(composeDispatch);

/** Per-message metadata the Functions host passes with a cardinality-many Service Bus trigger. */
function batchMetadata(context: InvocationContext, count: number): BatchMetadata[] {
  const meta = context.triggerMetadata ?? {};
  const ids = (meta['messageIdArray'] as unknown[] | undefined) ?? [];
  const enqueued = (meta['enqueuedTimeUtcArray'] as unknown[] | undefined) ?? [];
  const deliveryCounts = (meta['deliveryCountArray'] as unknown[] | undefined) ?? [];
  return Array.from({ length: count }, (_, i) => ({
    messageId: typeof ids[i] === 'string' ? ids[i] : `${context.invocationId}-${i}`,
    enqueuedTimeUtc: typeof enqueued[i] === 'string' ? enqueued[i] : undefined,
    deliveryCount: typeof deliveryCounts[i] === 'number' ? deliveryCounts[i] : undefined,
  }));
}

export const contactBatchesFunction: ServiceBusQueueFunctionOptions = {
  connection: 'ServiceBusConnection',
  queueName: '%CONTACT_BATCHES_QUEUE%',
  cardinality: 'many',
  handler: async (messages: unknown, context: InvocationContext) => {
    const { contactBatches } = await dispatch();
    const bodies = Array.isArray(messages) ? messages : [messages];
    await storeContactBatches(contactBatches, bodies, batchMetadata(context, bodies.length), context);
  },
};

export const pacingTickFunction: TimerFunctionOptions = {
  // Every 5 seconds; an app setting can change it (NCRONTAB with seconds).
  schedule: '%PACING_SCHEDULE%',
  handler: async (_timer: unknown, context: InvocationContext) => {
    const { tick, tickMetrics, clock } = await dispatch();
    const now = clock();
    const report = await runPacingTick({ ...tick, log: (line) => context.log(line) }, now);
    if (!report.ran) {
      context.log('pacing tick skipped: other instances hold the lease of every pacing group');
      return;
    }
    // The charts are a view: losing one minute's point must not fail the tick that placed the calls.
    await recordTickMetrics(tickMetrics, report.decisions, now).catch((error: unknown) =>
      context.warn(`engagement metrics not recorded for this tick: ${ensureError(error).message}`),
    );
  },
};

export const callEventsFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'call-events',
  authLevel: 'function',
  handler: callEventsHandler(dispatch),
};

export const engagementStatusFunction: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'engagements/{engagementId}/status',
  authLevel: 'function',
  handler: engagementStatusHandler(dispatch),
};

export const engagementRestartFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/restart',
  authLevel: 'admin',
  handler: engagementRestartHandler(dispatch),
};

export const deliveryAcceptFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/deliveries/{deliveryId}/accept',
  authLevel: 'function',
  handler: deliveryAcceptHandler(dispatch),
};

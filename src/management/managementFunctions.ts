import type { HttpFunctionOptions } from '@azure/functions';
import { appRegistry } from '../app/registry.js';
import { composeManagement, type Management } from './composeManagement.js';
import {
  consoleHandler,
  doNotContactAddHandler,
  doNotContactImportHandler,
  doNotContactRemoveHandler,
  engagementCancelQueuedHandler,
  engagementListHandler,
  engagementMetricsHandler,
  engagementPauseHandler,
  engagementResumeHandler,
  engagementSettingsHandler,
  engagementWhatIfHandler,
} from './managementHttp.js';

const management = (): Promise<Management> => appRegistry.use(composeManagement);
const read = async () => (await management()).read;
const pause = async () => (await management()).pause;
const doNotContact = async () => (await management()).doNotContact;

export const engagementListFunction: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'engagements',
  authLevel: 'function',
  handler: engagementListHandler(read),
};

export const engagementSettingsFunction: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'engagements/{engagementId}/settings',
  authLevel: 'function',
  handler: engagementSettingsHandler(read),
};

export const engagementMetricsFunction: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'engagements/{engagementId}/metrics',
  authLevel: 'function',
  handler: engagementMetricsHandler(read),
};

export const engagementWhatIfFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/what-if',
  authLevel: 'function',
  handler: engagementWhatIfHandler(read),
};

export const engagementPauseFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/pause',
  authLevel: 'admin',
  handler: engagementPauseHandler(pause),
};

export const engagementResumeFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/resume',
  authLevel: 'admin',
  handler: engagementResumeHandler(pause),
};

export const engagementCancelQueuedFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/cancel-queued',
  authLevel: 'admin',
  handler: engagementCancelQueuedHandler(async () => (await management()).cancel),
};

export const doNotContactAddFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'do-not-contact',
  authLevel: 'admin',
  handler: doNotContactAddHandler(doNotContact),
};

export const doNotContactRemoveFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'do-not-contact/remove',
  authLevel: 'admin',
  handler: doNotContactRemoveHandler(doNotContact),
};

export const doNotContactImportFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'do-not-contact/import',
  authLevel: 'admin',
  handler: doNotContactImportHandler(doNotContact),
};

/** The console page and its files; `GET /` on the local host redirects here (docs/decisions.md). */
export const operatorConsoleFunction: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'console/{*path}',
  authLevel: 'anonymous',
  handler: consoleHandler(async () => ({ assets: (await management()).assets })),
};

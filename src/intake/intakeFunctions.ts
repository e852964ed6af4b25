import type { HttpFunctionOptions } from '@azure/functions';
import { appRegistry } from '../app/registry.js';
import { composeIntake, type Intake } from './composeIntake.js';
import { journeyEventsHandler, previewHandler, segmentMembersHandler } from './intakeHttp.js';

const intake = (): Promise<Intake> => appRegistry.use(composeIntake);

export const journeyEventsFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/journey-events',
  authLevel: 'function',
  handler: journeyEventsHandler(intake),
};

export const segmentMembersFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/segment-members',
  authLevel: 'function',
  handler: segmentMembersHandler(intake),
};

export const previewFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/preview',
  authLevel: 'function',
  handler: previewHandler(intake),
};

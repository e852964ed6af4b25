import type { HttpFunctionOptions } from '@azure/functions';
import { getRuntime } from '../runtime.js';
import { journeyEventsHandler, previewHandler, segmentMembersHandler } from './intakeHttp.js';

export const journeyEventsFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/journey-events',
  authLevel: 'function',
  handler: journeyEventsHandler(getRuntime),
};

export const segmentMembersFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/segment-members',
  authLevel: 'function',
  handler: segmentMembersHandler(getRuntime),
};

export const previewFunction: HttpFunctionOptions = {
  methods: ['POST'],
  route: 'engagements/{engagementId}/preview',
  authLevel: 'function',
  handler: previewHandler(getRuntime),
};

import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { engagementCancelQueuedFunction } from '../src/management/managementFunctions.js';

app.http('engagementCancelQueued', engagementCancelQueuedFunction);

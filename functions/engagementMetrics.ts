import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { engagementMetricsFunction } from '../src/management/managementFunctions.js';

app.http('engagementMetrics', engagementMetricsFunction);

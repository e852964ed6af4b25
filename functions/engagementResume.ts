import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { engagementResumeFunction } from '../src/management/managementFunctions.js';

app.http('engagementResume', engagementResumeFunction);

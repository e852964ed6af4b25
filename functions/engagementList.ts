import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { engagementListFunction } from '../src/management/managementFunctions.js';

app.http('engagementList', engagementListFunction);

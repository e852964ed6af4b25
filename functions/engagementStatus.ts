import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { engagementStatusFunction } from '../src/dispatch/dispatchFunctions.js';

app.http('engagementStatus', engagementStatusFunction);

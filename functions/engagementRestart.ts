import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { engagementRestartFunction } from '../src/dispatch/dispatchFunctions.js';

app.http('engagementRestart', engagementRestartFunction);

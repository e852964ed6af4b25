import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { engagementPauseFunction } from '../src/management/managementFunctions.js';

app.http('engagementPause', engagementPauseFunction);

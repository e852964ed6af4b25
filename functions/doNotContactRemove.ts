import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { doNotContactRemoveFunction } from '../src/management/managementFunctions.js';

app.http('doNotContactRemove', doNotContactRemoveFunction);

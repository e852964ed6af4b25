import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { doNotContactAddFunction } from '../src/management/managementFunctions.js';

app.http('doNotContactAdd', doNotContactAddFunction);

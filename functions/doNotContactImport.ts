import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { doNotContactImportFunction } from '../src/management/managementFunctions.js';

app.http('doNotContactImport', doNotContactImportFunction);

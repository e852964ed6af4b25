import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { engagementSettingsFunction } from '../src/management/managementFunctions.js';

app.http('engagementSettings', engagementSettingsFunction);

import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { engagementWhatIfFunction } from '../src/management/managementFunctions.js';

app.http('engagementWhatIf', engagementWhatIfFunction);

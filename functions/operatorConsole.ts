import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { operatorConsoleFunction } from '../src/management/managementFunctions.js';

app.http('operatorConsole', operatorConsoleFunction);

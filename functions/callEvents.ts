import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { callEventsFunction } from '../src/dispatch/dispatchFunctions.js';

app.http('callEvents', callEventsFunction);

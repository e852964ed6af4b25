import { app } from '@azure/functions';
import '../src/appSetup.js';
import { callEventsFunction } from '../src/dispatch/dispatchFunctions.js';

app.http('callEvents', callEventsFunction);

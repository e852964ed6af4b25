import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { journeyEventsFunction } from '../src/intake/intakeFunctions.js';

app.http('journeyEvents', journeyEventsFunction);

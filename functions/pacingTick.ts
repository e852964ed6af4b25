import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { pacingTickFunction } from '../src/dispatch/dispatchFunctions.js';

app.timer('pacingTick', pacingTickFunction);

import { app } from '@azure/functions';
import '../src/appSetup.js';
import { pacingTickFunction } from '../src/dispatch/dispatchFunctions.js';

app.timer('pacingTick', pacingTickFunction);

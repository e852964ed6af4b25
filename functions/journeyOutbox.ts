import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { journeyOutboxFunction } from '../src/journeyOutcomes/journeyOutcomeFunctions.js';

app.timer('journeyOutbox', journeyOutboxFunction);

import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { previewFunction } from '../src/intake/intakeFunctions.js';

app.http('preview', previewFunction);

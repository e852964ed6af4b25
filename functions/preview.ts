import { app } from '@azure/functions';
import '../src/appSetup.js';
import { previewFunction } from '../src/intake/intakeFunctions.js';

app.http('preview', previewFunction);

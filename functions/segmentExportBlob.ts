import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { segmentExportBlobFunction } from '../src/segmentExports/segmentExportFunctions.js';

app.storageBlob('segmentExportBlob', segmentExportBlobFunction);

import { app } from '@azure/functions';
import { composeAgentLeg } from '../agentLeg/composeAgentLeg.js';
import { composeDispatch } from '../dispatch/composeDispatch.js';
import { composeIntake } from '../intake/composeIntake.js';
import { composeManagement } from '../management/composeManagement.js';
import { composeSegmentExportsAtStart } from '../segmentExports/composeSegmentExports.js';
import { appRegistry, disposeApp } from './registry.js';

// Request bodies arrive as streams, so a 100k-member segment page is parsed as it arrives instead of
// being buffered whole by the host first. Imported by every entry file before it registers.
app.setup({ enableHttpStream: true });

// Settings, the engagement file and each capability's own settings (agent leg, back-end) are validated
// when the app starts, not at the first request: an invalid file fails start-up with the engagement id
// and field path of every problem.
app.hook.appStart(async () => {
  for (const compose of [composeAgentLeg, composeDispatch, composeIntake, composeManagement, composeSegmentExportsAtStart])
    await appRegistry.use<unknown>(compose);
});

// The host runs this when it shuts down (the local host too): connections and timers close cleanly.
app.hook.appTerminate(async () => {
  await disposeApp();
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Secrets and numbers must not leak into CI logs through debug output of the SDKs.
    env: { AZURE_LOG_LEVEL: '' },
  },
});

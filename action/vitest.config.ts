import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A fresh XDG_CACHE_HOME for the run, and a failure if the user's real cache changed.
    globalSetup: ['../test-fixtures/user-cache-guard.mjs'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

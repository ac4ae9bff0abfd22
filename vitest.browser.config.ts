import { defineConfig } from 'vitest/config';

// Browser tests: the real service on a free port, driven by playwright-core through Debian's /usr/bin/chromium.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

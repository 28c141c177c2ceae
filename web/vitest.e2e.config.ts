import { defineConfig } from 'vitest/config';

// Browser tests: a real `hothour` binary and Debian's chromium (see e2e/harness.ts).
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});

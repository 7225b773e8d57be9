import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // every file: no registered secret in any output the suite inspected (test/support/secret-sink.ts)
    setupFiles: ['test/support/leak-guard.setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

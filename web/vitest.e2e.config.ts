import { defineConfig } from 'vitest/config';

// The end-to-end test: a real `hil serve` and Debian's chromium, driven with playwright-core.
export default defineConfig({
  test: {
    include: ['e2e/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['verbose'],
  },
});

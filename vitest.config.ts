import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "client/test/**/*.test.ts"],
    // One DynamoDB Local, one emulator and one HTTP stack for the whole run.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
  },
});

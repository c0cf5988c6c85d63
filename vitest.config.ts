import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["libs/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "test/**/*.test.ts", "examples/*/test/**/*.test.ts", "docs/*/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["test/setup/global.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    server: {
      deps: {
        // Workspace packages run from their built output, exactly as in production, so worker
        // threads can load their entry files.
        external: [/\/libs\/[^/]+\/dist\//, /\/services\/[^/]+\/dist\//, /@tonearm\//],
      },
    },
  },
});

import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// vitest 5 needs Node ^22.12 but does not refuse older ones: it half-works, then crashes.
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  throw new Error(`Node ${process.version} is too old for this suite: run \`source scripts/ensure-node.sh\` first`);
}

const root = import.meta.dirname;
// Same folder as `migrations_dir` in wrangler.toml and `out` in drizzle.config.ts.
const MIGRATIONS_DIR = path.join(root, "schema/migrations");
// Tests of schema/ (runtime-agnostic code) run in both projects.
const SHARED_TESTS = "test/shared/**/*.test.ts";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(MIGRATIONS_DIR); // top-level *.sql only
  return {
    test: {
      projects: [
        {
          // cloudflareTest() must stay inside this project: at the root it would take over
          // the node project too (docs/TOOLCHAIN.md §4).
          plugins: [
            cloudflareTest({
              wrangler: { configPath: path.join(root, "wrangler.toml") },
              miniflare: { bindings: { TEST_MIGRATIONS: migrations } },
            }),
          ],
          test: {
            name: { label: "workers", color: "yellow" as const },
            include: ["test/workers/**/*.test.ts", SHARED_TESTS],
            setupFiles: ["./test/workers/setup/apply-migrations.ts"],
            // In Node: the fake finney node server, which workerd tests reach over loopback.
            globalSetup: ["./test/node/support/fake-finney/global-setup.ts"],
            testTimeout: 60_000,
            // @polkadot/* takes 5–10 s per test file to load through vite unless pre-bundled (docs/TOOLCHAIN.md §4).
            deps: {
              optimizer: {
                ssr: {
                  enabled: true,
                  include: [
                    "@polkadot/api",
                    "@polkadot/util-crypto",
                    "@polkadot/util",
                    "@polkadot/types",
                    "@polkadot/keyring",
                  ],
                },
              },
            },
          },
        },
        {
          test: {
            name: { label: "node", color: "green" as const },
            environment: "node",
            include: ["test/node/**/*.test.ts", SHARED_TESTS],
            testTimeout: 60_000,
          },
        },
      ],
    },
  };
});

import { defineConfig } from "drizzle-kit";

// `out` is the same folder as `migrations_dir` in wrangler.toml and the one vitest applies.
export default defineConfig({ dialect: "sqlite", schema: "./schema/db/index.ts", out: "./schema/migrations" });

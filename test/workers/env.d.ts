// Test-only bindings added in vitest.config.ts (miniflare.bindings).
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}

// Vite's `?raw` imports: a file's text (docs compared with what the code generates).
declare module "*?raw" {
  const text: string;
  export default text;
}

import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach } from "vitest";
import { resetState } from "../support/reset.ts";

// Runs before every test file of the workers project; applyD1Migrations is idempotent.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// A test file has storage of its own, but its tests share it: without this, a test would see
// (and could come to depend on) whatever the tests before it left in D1 and R2. So every test
// starts from the migrated, empty world and seeds what it needs (in its body or a beforeEach: a
// beforeAll's rows would be gone before the first test). Concurrent tests (describe.concurrent)
// are the exception: a reset for one would empty the world under the others still running, so
// they share what their file seeds in beforeAll and each keeps to rows of its own.
beforeEach(async ({ task }) => {
  if (!task.concurrent) await resetState();
});

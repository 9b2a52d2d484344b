/**
 * Each workerd test file has storage of its own; within a file, `resetState()` before each test
 * (setup/apply-migrations.ts registers it for the whole workers project) gives every test the
 * freshly migrated, empty world instead of what earlier tests left.
 */
import { env } from "cloudflare:workers";

/** Empties every D1 table (migrations kept) and both R2 buckets. */
export async function resetState(): Promise<void> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
  ).all<{ name: string }>();
  // Foreign keys are checked at commit, when every table is empty.
  await env.DB.batch([
    env.DB.prepare("PRAGMA defer_foreign_keys = on"),
    ...tables.results.map((t) => env.DB.prepare(`DELETE FROM "${t.name}"`)),
  ]);
  for (const bucket of [env.GRADIENTS, env.ARTIFACTS]) {
    for (let cursor: string | undefined, more = true; more; ) {
      const page = await bucket.list({ cursor, limit: 1000 });
      if (page.objects.length) await bucket.delete(page.objects.map((o) => o.key));
      more = page.truncated;
      cursor = page.truncated ? page.cursor : undefined;
    }
  }
}

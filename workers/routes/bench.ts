/**
 * The baseline of `npm run bench:intake`: a plain R2 put of the request body, through the same
 * Worker and middleware as an upload, with none of the intake's checks. Mounted only when the
 * BENCHMARK_ROUTES var is "on" (it is "off" in every environment of wrangler.toml).
 */
import { Hono } from "hono";
import { EdgeError } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";

export const benchRoutes = new Hono<AppEnv>().put("/bench/plain-put/:name", async (c) => {
  const length = Number(c.req.header("Content-Length"));
  if (!Number.isSafeInteger(length)) throw new EdgeError("BAD_REQUEST", "Content-Length is required");
  const fixed = new FixedLengthStream(length);
  const [object] = await Promise.all([
    c.get("ctx").gradients.put(`bench/${c.req.param("name")}`, fixed.readable),
    (c.req.raw.body ?? new Blob([]).stream()).pipeTo(fixed.writable),
  ]);
  return c.json({ size: object?.size ?? 0 }, 201);
});

/**
 * The baseline of `npm run bench:intake`: a plain R2 put of the request body, through the same
 * Worker and middleware as an upload, with none of the intake's checks. It answers NOT_FOUND
 * unless the BENCHMARK_ROUTES var is "on" (it is "off" in every environment of wrangler.toml).
 */
import { z } from "zod";
import { jsonAnswer } from "../../schema/api/openapi.ts";
import { benchPutResponse } from "../../schema/api/responses.ts";
import { EdgeError } from "../../schema/errors.ts";
import { route } from "../http/route.ts";

export const benchRoutes = [
  route(
    {
      id: "benchPlainPut",
      method: "put",
      path: "/v1/bench/plain-put/:name",
      tag: "benchmark",
      summary: "A plain R2 put, the baseline of `npm run bench:intake` (404 unless BENCHMARK_ROUTES is on)",
      pathParams: z.object({ name: z.string().meta({ description: "the object's name under bench/" }) }),
      body: "binary",
      answers: [jsonAnswer(201, "stored", benchPutResponse)],
    },
    async (c, { ctx, params }) => {
      // typed as the literal "off" of wrangler.toml; `wrangler dev --var BENCHMARK_ROUTES:on` changes it
      if ((c.env.BENCHMARK_ROUTES as string) !== "on")
        throw new EdgeError("NOT_FOUND", `no route ${c.req.method} ${new URL(c.req.url).pathname}`);
      const length = Number(c.req.header("Content-Length"));
      if (!Number.isSafeInteger(length)) throw new EdgeError("BAD_REQUEST", "Content-Length is required");
      const fixed = new FixedLengthStream(length);
      const [object] = await Promise.all([
        ctx.gradients.put(`bench/${params.name}`, fixed.readable),
        (c.req.raw.body ?? new Blob([]).stream()).pipeTo(fixed.writable),
      ]);
      return c.json({ size: object?.size ?? 0 }, 201);
    },
  ),
];

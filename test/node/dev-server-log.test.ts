// wrangler dev's own output, as the local network's worker.log shows it: a request its proxy
// dropped (the client went away) is named as such, not left as an "✘ [ERROR]" that reads like a
// Worker crash. The line below is one wrangler 4 printed during the hostile suite.
import { describe, expect, it } from "vitest";
import { describeDevServerLine } from "../../scripts/dev/dev-server-log.ts";

const DROPPED =
  "\u001b[31m✘ \u001b[41;31m[\u001b[41;97mERROR\u001b[41;31m]\u001b[0m \u001b[1mError inside ProxyWorker (the affected request failed; the dev server continues): PUT http://127.0.0.1:44309/v1/gradients/1/2 (failed after 1 attempt): Network connection lost.\u001b[0m";

describe("wrangler dev's log lines", () => {
  it("names a request the proxy dropped, without the ERROR mark", () => {
    const line = describeDevServerLine(DROPPED);
    expect(line).toMatch(/^request dropped between the client and the Worker/);
    expect(line).toContain("PUT http://127.0.0.1:44309/v1/gradients/1/2: Network connection lost.");
    expect(line).not.toContain("ERROR");
  });

  it("leaves every other line as it is, the Worker's own errors included", () => {
    for (const line of [
      "[wrangler:info] PUT /v1/gradients/1/3 429 Too Many Requests (118ms)",
      '✘ [ERROR] {"level":"error","event":"request.failed","msg":"unhandled error"}',
    ])
      expect(describeDevServerLine(line)).toBe(line);
  });
});

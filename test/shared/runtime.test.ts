// Runs in BOTH projects (workerd and Node): only runtime-agnostic imports here.
import { describe, expect, it } from "vitest";
import { EdgeError } from "../../schema/errors.ts";
import { getHparams } from "../../schema/hparams.ts";

describe("shared code", () => {
  it("runs in the runtime its project names", ({ task }) => {
    const runtime = navigator.userAgent;
    if (task.file.projectName === "workers") expect(runtime).toBe("Cloudflare-Workers");
    else expect(runtime).toMatch(/^Node\.js\//);
  });

  it("refuses an unknown hparams profile with a coded error", () => {
    expect(() => getHparams("mainnet")).toThrowError(EdgeError);
    try {
      getHparams("mainnet");
    } catch (e) {
      expect((e as EdgeError).code).toBe("CONFIG_INVALID");
      expect((e as EdgeError).status).toBe(500);
    }
  });
});

// Sizes of each profile's model from its manifest alone (`npm run model-sizes`): parameter counts
// against the published ones, and every profile's gradient file within its own intake limits.
import { describe, expect, it } from "vitest";
import { getHparams, PROFILES } from "../../schema/hparams.ts";
import { profileSizes } from "../../scripts/sizing/profile-sizes.ts";

describe("profile sizes", () => {
  it("the llama profiles have the parameter counts of the shapes they name", () => {
    // Templar's 150M and 1B (HF LlamaForCausalLM, untied) and Covenant-72B's 72.7B (HF export, lm_head separate).
    expect(profileSizes(getHparams("templar-150m")).parameters).toBe(214_983_680);
    expect(profileSizes(getHparams("templar-1b")).parameters).toBe(1_204_881_408);
    const big = profileSizes(getHparams("templar-72b"));
    expect(big.parameters).toBe(72_747_327_488);
    expect(big.checkpoint.bf16_bytes).toBe(2 * 72_747_327_488);
  });

  it("every profile's gradient file fits its limits, and a multipart upload fits the part limit", () => {
    for (const name of Object.keys(PROFILES)) {
      const s = profileSizes(getHparams(name));
      expect(s.gradient.within_limits, name).toBe(true);
      expect(s.gradient.parts_within_limit, name).toBe(true);
      // 64 of 4096 per chunk, format version 2: 64 bytes of Elias-Fano indices and 16 of 2-bit codes.
      expect(s.gradient.bytes_per_2d_chunk, name).toBe(80);
    }
    const big = profileSizes(getHparams("templar-72b")).gradient;
    expect(big.upload).toBe("multipart");
    // Limits hold version 1's file: 96 + 16 bytes per chunk.
    expect(big.file_bytes).toBeGreaterThan(big.chunks * 112);
    // Version 2 (1-D parameters' small chunks take a little less than 80).
    expect(big.latest_file_bytes).toBeGreaterThan(big.chunks * 79);
    expect(big.latest_file_bytes).toBeLessThan(big.chunks * 80);
  });
});

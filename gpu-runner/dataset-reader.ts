/**
 * Samples of the published dataset (docs/SPEC.md §2.2), read through the validator's HTTP API:
 * the data manifest and each split's shards are downloaded once (they do not change while a
 * validator runs) and every later read is served from memory. The evaluator and the reference
 * miner both read their samples here.
 */
import {
  DATA_MANIFEST_KEY,
  type DataManifest,
  gatherSamples,
  sampleWidth,
  shardTokens,
  type Tokens,
} from "../schema/data/dataset.ts";
import type { ValidatorApi } from "./validator-api.ts";

export type SplitName = keyof DataManifest["splits"];

/** Where samples come from: the validator's HTTP API (DatasetReader), or the artifacts on disk. */
export interface SampleReader {
  /** The tokens of samples `ids` of a split, concatenated (ids.length × sampleWidth tokens). */
  samples(split: SplitName, ids: readonly number[]): Promise<Tokens>;
}

export class DatasetReader implements SampleReader {
  readonly #api: ValidatorApi;
  #manifest: Promise<DataManifest> | undefined;
  readonly #shards = new Map<SplitName, Promise<Tokens[]>>();

  constructor(api: ValidatorApi) {
    this.#api = api;
  }

  /** The data manifest (`GET /v1/data/manifest`), fetched on first use. */
  manifest(): Promise<DataManifest> {
    this.#manifest ??= this.#api.json<DataManifest>(`/v1/${DATA_MANIFEST_KEY.replace(/\.json$/, "")}`).catch((e) => {
      this.#manifest = undefined; // a failed fetch is retried by the next call
      throw e;
    });
    return this.#manifest;
  }

  /** The tokens of samples `ids` of a split, concatenated (ids.length × sampleWidth tokens). */
  async samples(split: SplitName, ids: readonly number[]): Promise<Tokens> {
    const data = await this.manifest();
    const shards = await this.#splitShards(split, data);
    return gatherSamples(data.splits[split], data.seq_len, ids, (i) => shards[i] as Tokens, sampleWidth(data));
  }

  #splitShards(split: SplitName, data: DataManifest): Promise<Tokens[]> {
    let shards = this.#shards.get(split);
    if (!shards) {
      shards = Promise.all(
        data.splits[split].shards.map(async (s) =>
          shardTokens(data, (await this.#api.download(`/v1/data/${s.key.split("/").pop()}`)).bytes, s.key),
        ),
      ).catch((e) => {
        this.#shards.delete(split);
        throw e;
      });
      this.#shards.set(split, shards);
    }
    return shards;
  }
}

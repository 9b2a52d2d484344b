/**
 * The dataset of an artifacts folder (`.artifacts/<profile>/data`), read from disk as the runner
 * and the miner read the published one over HTTP.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { SampleReader, SplitName } from "../../gpu-runner/dataset-reader.ts";
import {
  DATA_MANIFEST_KEY,
  type DataManifest,
  gatherSamples,
  sampleWidth,
  shardTokens,
  type Tokens,
} from "../../schema/data/dataset.ts";

export class LocalDataset implements SampleReader {
  readonly manifest: DataManifest;
  readonly #dir: string;
  readonly #shards = new Map<SplitName, Tokens[]>();

  constructor(dir: string) {
    this.#dir = dir;
    this.manifest = JSON.parse(readFileSync(path.join(dir, DATA_MANIFEST_KEY), "utf8")) as DataManifest;
  }

  async samples(split: SplitName, ids: readonly number[]): Promise<Tokens> {
    let shards = this.#shards.get(split);
    if (!shards) {
      shards = this.manifest.splits[split].shards.map((s) =>
        shardTokens(this.manifest, new Uint8Array(readFileSync(path.join(this.#dir, s.key))), s.key),
      );
      this.#shards.set(split, shards);
    }
    const loaded = shards;
    const m = this.manifest;
    return gatherSamples(m.splits[split], m.seq_len, ids, (i) => loaded[i] as Tokens, sampleWidth(m));
  }
}

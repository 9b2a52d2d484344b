/**
 * One shard of Templar's pre-tokenized dataset read from disk (src/tplr/sharded_dataset.py):
 * `train_{shard:06d}.npy` (uint32 tokens) and `sample_ids_{shard:06d}.npy` (uint64). Only the
 * headers and the sample ids are read at open; a sample is read with one positional read, so
 * shards of hundreds of GB (past what fs.readFile takes) work. Faults are EdgeError
 * DATA_FILE_INVALID naming the file.
 */
import { type FileHandle, open } from "node:fs/promises";
import path from "node:path";
import {
  checkNpySize,
  MAX_HEADER_BYTES,
  type NpyDtype,
  type NpyHeader,
  parseNpyHeader,
  readNpyU64,
} from "../schema/data/npy.ts";
import { sampleIdsName, TEMPLAR_SEQ_LEN, tokenShardName } from "../schema/data/templar-shards.ts";
import { EdgeError } from "../schema/errors.ts";

async function readAt(handle: FileHandle, file: string, position: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, position + done);
    if (bytesRead === 0)
      throw new EdgeError("DATA_FILE_INVALID", `${file}: file ends at byte ${position + done}`, {
        reason: "truncated",
        file,
      });
    done += bytesRead;
  }
  return out;
}

/** Opens a `.npy` file, parses and size-checks its header against the file's length. */
async function openNpy(file: string, dtype: NpyDtype): Promise<{ handle: FileHandle; header: NpyHeader }> {
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch (e) {
    throw new EdgeError("DATA_FILE_INVALID", `${file}: cannot open`, { reason: "missing", file }, { cause: e });
  }
  try {
    const size = (await handle.stat()).size;
    const head = await readAt(handle, file, 0, Math.min(size, 12 + MAX_HEADER_BYTES));
    const header = parseNpyHeader(head, file, dtype);
    checkNpySize(header, size, file);
    return { handle, header };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** A Templar shard: samples = min(⌊tokens / L⌋, sample ids), as sharded_dataset.py counts them. */
export class TemplarShard {
  readonly #handle: FileHandle;
  readonly #header: NpyHeader;
  readonly #file: string;
  readonly seqLen: number;
  readonly sampleIds: BigUint64Array;
  readonly samples: number;

  private constructor(handle: FileHandle, header: NpyHeader, file: string, ids: BigUint64Array, seqLen: number) {
    this.#handle = handle;
    this.#header = header;
    this.#file = file;
    this.seqLen = seqLen;
    this.sampleIds = ids;
    this.samples = Math.min(Math.floor(header.length / seqLen), ids.length);
  }

  /** Opens shard `shard` of the dataset in `dir`. */
  static async open(dir: string, shard = 0, seqLen: number = TEMPLAR_SEQ_LEN): Promise<TemplarShard> {
    const idsFile = path.join(dir, sampleIdsName(shard));
    const ids = await openNpy(idsFile, "<u8");
    let idBytes: Uint8Array;
    try {
      idBytes = await readAt(ids.handle, idsFile, 0, ids.header.dataOffset + ids.header.length * 8);
    } finally {
      await ids.handle.close();
    }
    const sampleIds = readNpyU64(idBytes, idsFile);
    const file = path.join(dir, tokenShardName(shard));
    const { handle, header } = await openNpy(file, "<u4");
    return new TemplarShard(handle, header, file, sampleIds, seqLen);
  }

  /** The tokens of sample i: tokens[i·L : (i+1)·L]. */
  async sample(i: number): Promise<Uint32Array> {
    if (!Number.isInteger(i) || i < 0 || i >= this.samples)
      throw new RangeError(`sample ${i} is not in [0, ${this.samples})`);
    const bytes = await readAt(
      this.#handle,
      this.#file,
      this.#header.dataOffset + i * this.seqLen * 4,
      this.seqLen * 4,
    );
    const view = new DataView(bytes.buffer);
    const out = new Uint32Array(this.seqLen);
    for (let k = 0; k < out.length; k++) out[k] = view.getUint32(k * 4, true);
    return out;
  }

  /** Closes the token file. */
  close(): Promise<void> {
    return this.#handle.close();
  }
}

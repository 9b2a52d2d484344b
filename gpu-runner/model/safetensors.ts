/**
 * Reads Hugging Face safetensors checkpoints from disk, one file or a sharded set with
 * `model.safetensors.index.json`, as Float32Array tensors.
 *
 * The layout (https://huggingface.co/docs/safetensors): an 8-byte little-endian length N, N bytes
 * of JSON (`name → {dtype, shape, data_offsets: [begin, end]}`, offsets relative to the data, an
 * optional string map `__metadata__`), then the data. Files run past 2 GiB, where `readFile`
 * refuses, so only the header is read at open and each tensor is read later with positional reads
 * of bounded chunks. F32, F16 and BF16 tensors are read; the wider forms are exact.
 *
 * Every refusal is an EdgeError `MODEL_FILE_INVALID` whose `details.reason` is one of
 * {@link ModelFileFault} and whose details name the file and, where there is one, the tensor.
 */
import { access, constants, type FileHandle, open, readFile, stat } from "node:fs/promises";
import { endianness } from "node:os";
import path from "node:path";
import { EdgeError } from "../../schema/errors.ts";

/** Why a model file was refused: the stable `details.reason` of its error. */
export type ModelFileFault =
  | "header_length" // the 8-byte length is missing, below 2, above MAX_HEADER_BYTES or past the file
  | "header_json" // the header is not UTF-8 JSON of the expected shape
  | "dtype" // a dtype the format does not define, or one this reader does not convert
  | "offsets" // data_offsets out of range, overlapping, leaving gaps or not reaching the end
  | "shape" // shape × dtype size differs from the tensor's byte length
  | "truncated" // the file ended during a read (it changed after it was opened)
  | "index" // model.safetensors.index.json is not the expected JSON
  | "shard_missing" // a shard the index names cannot be opened
  | "tensor_missing" // a tensor the index names, or a caller asks for, is not there
  // Importing an HF checkpoint onto a profile (import-hf.ts):
  | "unexpected_tensor" // the checkpoint holds a parameter the profile's model lacks
  | "shape_mismatch" // a tensor's shape differs from the profile's
  | "config_mismatch"; // config.json says another shape than the profile's

/** The header limit of the reference implementation (100 MB): a larger N is refused before reading it. */
export const MAX_HEADER_BYTES = 100_000_000;
/** Default largest positional read: fs refuses reads above 2 GiB − 1, and smaller chunks bound the scratch memory. */
export const READ_CHUNK_BYTES = 64 * 1024 * 1024;
export const INDEX_FILE = "model.safetensors.index.json";
export const SINGLE_FILE = "model.safetensors";

/** Bytes per element of every dtype the format defines; only F32, F16 and BF16 can be read. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};
export type ReadableDtype = "F32" | "F16" | "BF16";
const READABLE: ReadonlySet<string> = new Set<ReadableDtype>(["F32", "F16", "BF16"]);

// The widening below reinterprets bytes through typed arrays, which use the host's byte order.
if (endianness() !== "LE") throw new Error("safetensors reader: a little-endian host is required");

/** One tensor of a file: where its bytes lie, as absolute file offsets. */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** First byte in the file (8 + N + data_offsets[0]). */
  readonly start: number;
  /** One past the last byte in the file. */
  readonly end: number;
}

/** A parsed and validated header. */
export interface SafetensorsHeader {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, TensorEntry>;
}

/** A MODEL_FILE_INVALID refusal naming the file, the reason and, where there is one, the tensor. */
export function modelFileFault(reason: ModelFileFault, file: string, message: string, tensor?: string): EdgeError {
  const where = tensor === undefined ? file : `${file}, tensor ${JSON.stringify(tensor)}`;
  return new EdgeError("MODEL_FILE_INVALID", `${where}: ${message}`, {
    reason,
    file,
    ...(tensor === undefined ? {} : { tensor }),
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Validates a header's JSON against the file size: known dtypes, shape × dtype size equal to the
 * byte length, and data_offsets that tile the data exactly (no overlap, no gap, nothing after).
 */
export function parseSafetensorsHeader(json: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  // The reference implementation also insists on '{' first; a leading space or BOM is not its format.
  if (json[0] !== 0x7b) throw modelFileFault("header_json", file, "header does not start with '{'");
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (e) {
    throw modelFileFault("header_json", file, `header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isRecord(parsed)) throw modelFileFault("header_json", file, "header is not a JSON object");
  const dataStart = 8 + json.length;
  const dataLength = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorEntry>();
  for (const [name, value] of Object.entries(parsed)) {
    if (name === "__metadata__") {
      if (!isRecord(value) || !Object.values(value).every((v) => typeof v === "string"))
        throw modelFileFault("header_json", file, "__metadata__ is not a map of strings");
      Object.assign(metadata, value);
      continue;
    }
    if (!isRecord(value)) throw modelFileFault("header_json", file, "entry is not an object", name);
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== "string") throw modelFileFault("header_json", file, "dtype is not a string", name);
    if (!Array.isArray(shape) || !shape.every(isCount))
      throw modelFileFault("header_json", file, "shape is not a list of non-negative integers", name);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
      throw modelFileFault("header_json", file, "data_offsets is not [begin, end] of non-negative integers", name);
    const size = DTYPE_BYTES[dtype];
    if (size === undefined) throw modelFileFault("dtype", file, `unknown dtype ${JSON.stringify(dtype)}`, name);
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength)
      throw modelFileFault(
        "offsets",
        file,
        `data_offsets [${begin}, ${end}] outside the ${dataLength} data bytes`,
        name,
      );
    const elements = shape.reduce((a: number, d: number) => a * d, 1);
    if (!Number.isSafeInteger(elements * size) || elements * size !== end - begin)
      throw modelFileFault("shape", file, `shape [${shape.join(", ")}] of ${dtype} is not ${end - begin} bytes`, name);
    tensors.set(name, { name, dtype, shape, start: dataStart + begin, end: dataStart + end });
  }
  // Tile check as the reference implementation does it: sorted by offsets, each begins where the last ended.
  const ordered = [...tensors.values()].sort((a, b) => a.start - b.start || a.end - b.end);
  let at = dataStart;
  for (const t of ordered) {
    if (t.start !== at)
      throw modelFileFault(
        "offsets",
        file,
        t.start < at ? "data_offsets overlap another tensor" : "gap before data_offsets",
        t.name,
      );
    at = t.end;
  }
  if (at !== fileSize)
    throw modelFileFault("offsets", file, `tensors end at data byte ${at - dataStart}, not ${dataLength}`);
  return { metadata, tensors };
}

/** Reads exactly `length` bytes at `position`, in the caller's buffer. */
async function readExactly(handle: FileHandle, into: Uint8Array, length: number, position: number, file: string) {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(into, done, length - done, position + done);
    if (bytesRead === 0) throw modelFileFault("truncated", file, `file ends before byte ${position + length}`);
    done += bytesRead;
  }
}

/** float16 bits → float32 bits for all 65,536 patterns (subnormals, ±inf and NaN payloads kept). */
const F16_TO_F32_BITS: Uint32Array = (() => {
  const table = new Uint32Array(65536);
  const scratch = new Float32Array(1);
  const scratchBits = new Uint32Array(scratch.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0x1f) table[h] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    else if (exp !== 0) table[h] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
    else {
      scratch[0] = mant * 2 ** -24; // zero or subnormal: exact in float32
      table[h] = (sign | scratchBits[0]) >>> 0;
    }
  }
  return table;
})();

/** Widens `count` little-endian F32/F16/BF16 elements from `bytes` (4-byte aligned) into `out` at `at`. */
export function widenToFloat32(dtype: ReadableDtype, bytes: Uint8Array, count: number, out: Float32Array, at: number) {
  const outBits = new Uint32Array(out.buffer, out.byteOffset + at * 4, count);
  if (dtype === "F32") {
    outBits.set(new Uint32Array(bytes.buffer, bytes.byteOffset, count));
    return;
  }
  const half = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  if (dtype === "BF16") for (let i = 0; i < count; i++) outBits[i] = half[i] << 16;
  else for (let i = 0; i < count; i++) outBits[i] = F16_TO_F32_BITS[half[i]];
}

/** One open safetensors file: its validated header, and its tensors read on demand. */
export class SafetensorsFile {
  readonly file: string;
  readonly header: SafetensorsHeader;
  private readonly handle: FileHandle;
  private readonly chunkBytes: number;

  private constructor(file: string, header: SafetensorsHeader, handle: FileHandle, chunkBytes: number) {
    this.file = file;
    this.header = header;
    this.handle = handle;
    // A multiple of 8 holds whole elements of every readable dtype.
    this.chunkBytes = Math.max(8, Math.floor(Math.min(chunkBytes, READ_CHUNK_BYTES) / 8) * 8);
  }

  /** Opens a file and validates its header; only the header is read. `chunkBytes` bounds each later read. */
  static async open(file: string, options: { chunkBytes?: number } = {}): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(file, constants.O_RDONLY);
    } catch (e) {
      throw modelFileFault(
        "shard_missing",
        file,
        `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    try {
      const { size } = await handle.stat();
      if (size < 8)
        throw modelFileFault("header_length", file, `file has ${size} bytes, fewer than the 8-byte header length`);
      const prefix = new Uint8Array(8);
      await readExactly(handle, prefix, 8, 0, file);
      const n = new DataView(prefix.buffer).getBigUint64(0, true);
      if (n < 2n || n > BigInt(MAX_HEADER_BYTES) || 8n + n > BigInt(size))
        throw modelFileFault(
          "header_length",
          file,
          `header length ${n} is below 2, above ${MAX_HEADER_BYTES} or past the file`,
        );
      const json = new Uint8Array(Number(n));
      await readExactly(handle, json, json.length, 8, file);
      return new SafetensorsFile(
        file,
        parseSafetensorsHeader(json, size, file),
        handle,
        options.chunkBytes ?? READ_CHUNK_BYTES,
      );
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** The entry of `name`, or a `tensor_missing` refusal. */
  entry(name: string): TensorEntry {
    const t = this.header.tensors.get(name);
    if (!t) throw modelFileFault("tensor_missing", this.file, "no such tensor", name);
    return t;
  }

  /** Reads one tensor as float32 (row-major, `entry(name).shape`), chunk by chunk with positional reads. */
  async read(name: string): Promise<Float32Array> {
    const t = this.entry(name);
    if (!READABLE.has(t.dtype))
      throw modelFileFault("dtype", this.file, `dtype ${t.dtype} is not read (only F32, F16, BF16)`, name);
    const dtype = t.dtype as ReadableDtype;
    const size = DTYPE_BYTES[dtype] as number;
    const count = (t.end - t.start) / size;
    const out = new Float32Array(count);
    // A fresh ArrayBuffer is aligned for the typed-array views, whatever the tensor's file offset.
    const scratch = new Uint8Array(Math.min(this.chunkBytes, t.end - t.start));
    for (let done = 0; done < count; ) {
      const n = Math.min(count - done, Math.floor(scratch.length / size));
      await readExactly(this.handle, scratch, n * size, t.start + done * size, this.file);
      widenToFloat32(dtype, scratch, n, out, done);
      done += n;
    }
    return out;
  }

  /** Closes the file handle. */
  close(): Promise<void> {
    return this.handle.close();
  }
}

/** A checkpoint: one safetensors file, or the shards a `model.safetensors.index.json` maps tensors to. */
export class SafetensorsCheckpoint {
  /** Tensor name → the open file that holds it. */
  private readonly where: ReadonlyMap<string, SafetensorsFile>;
  private readonly files: readonly SafetensorsFile[];
  /** `__metadata__` of a single file, or the index's `metadata` object. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The file opened: the index, or the single safetensors file. */
  readonly source: string;

  private constructor(
    source: string,
    where: ReadonlyMap<string, SafetensorsFile>,
    files: readonly SafetensorsFile[],
    metadata: Readonly<Record<string, unknown>>,
  ) {
    this.source = source;
    this.where = where;
    this.files = files;
    this.metadata = metadata;
  }

  /**
   * Opens a checkpoint from a directory (its index if there is one, else `model.safetensors`), an
   * index file or a single `.safetensors` file. Every shard's header is read and checked, and every
   * tensor the index names must be in the shard it names.
   */
  static async open(location: string): Promise<SafetensorsCheckpoint> {
    let target = location;
    const info = await stat(location).catch(() => undefined);
    if (info?.isDirectory()) {
      const index = path.join(location, INDEX_FILE);
      const hasIndex = await access(index).then(
        () => true,
        () => false,
      );
      target = hasIndex ? index : path.join(location, SINGLE_FILE);
    }
    if (!target.endsWith(".json")) {
      const file = await SafetensorsFile.open(target);
      return new SafetensorsCheckpoint(target, new Map([...file.header.tensors.keys()].map((k) => [k, file])), [file], {
        ...file.header.metadata,
      });
    }
    return SafetensorsCheckpoint.openIndex(target);
  }

  private static async openIndex(indexFile: string): Promise<SafetensorsCheckpoint> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(indexFile, "utf8"));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw modelFileFault("shard_missing", indexFile, `cannot read the index (${code})`);
      throw modelFileFault("index", indexFile, `index is not JSON (${(e as Error).message})`);
    }
    if (!isRecord(parsed) || !isRecord(parsed.weight_map))
      throw modelFileFault("index", indexFile, "index has no weight_map object");
    const map = parsed.weight_map;
    const shardNames = new Set<string>();
    for (const [tensor, shard] of Object.entries(map)) {
      // Shards sit beside the index: a path in a shard name could reach any file.
      if (typeof shard !== "string" || shard !== path.basename(shard) || shard === "." || shard === "..")
        throw modelFileFault(
          "index",
          indexFile,
          `weight_map names ${JSON.stringify(shard)}, not a file beside the index`,
          tensor,
        );
      shardNames.add(shard);
    }
    const dir = path.dirname(indexFile);
    const opened = new Map<string, SafetensorsFile>();
    try {
      for (const shard of [...shardNames].sort()) opened.set(shard, await SafetensorsFile.open(path.join(dir, shard)));
      const where = new Map<string, SafetensorsFile>();
      for (const [tensor, shard] of Object.entries(map) as [string, string][]) {
        const file = opened.get(shard) as SafetensorsFile;
        if (!file.header.tensors.has(tensor))
          throw modelFileFault(
            "tensor_missing",
            file.file,
            `the index maps this tensor to ${shard}, which lacks it`,
            tensor,
          );
        where.set(tensor, file);
      }
      const metadata = isRecord(parsed.metadata) ? parsed.metadata : {};
      return new SafetensorsCheckpoint(indexFile, where, [...opened.values()], metadata);
    } catch (e) {
      await Promise.all([...opened.values()].map((f) => f.close()));
      throw e;
    }
  }

  /** The tensor names, sorted. */
  names(): string[] {
    return [...this.where.keys()].sort();
  }

  /** The entry of `name` (dtype, shape, offsets), or a `tensor_missing` refusal. */
  entry(name: string): TensorEntry {
    return this.fileOf(name).entry(name);
  }

  /** Reads one tensor as float32. */
  async read(name: string): Promise<Float32Array> {
    return this.fileOf(name).read(name);
  }

  /** The file path that holds `name` (for ONNX external data that points into a shard). */
  fileOf(name: string): SafetensorsFile {
    const file = this.where.get(name);
    if (!file) throw modelFileFault("tensor_missing", this.source, "no such tensor", name);
    return file;
  }

  /** Closes every shard. */
  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}

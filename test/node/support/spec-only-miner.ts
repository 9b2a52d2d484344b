/**
 * A minimal miner written from docs/SPEC.md alone, to show that the SPEC is enough to upload a
 * file a validator accepts. It is deliberately independent of this repository: it must import
 * only npm packages and node builtins, never the project's codec, schema, scripts or workers
 * (test/node/bring-your-own-miner.test.ts scans its imports). Where the SPEC says nothing, it
 * follows what the validator answers, and says so here.
 *
 * It does not train: the gradient is random values, since what is tested is the file format,
 * the signature and the intake (SPEC §3–§5), not learning. It writes gradient format version 2
 * (Elias-Fano coded indices, §3.5) when the validator lists it in `intake.format_versions`
 * (§4.2), else version 1.
 */
import { createHash } from "node:crypto";
import { DEV_PHRASE } from "@polkadot/keyring";
import {
  cryptoWaitReady,
  encodeAddress,
  keyExtractSuri,
  keyFromPath,
  mnemonicToMiniSecret,
  sr25519PairFromSeed,
  sr25519Sign,
} from "@polkadot/util-crypto";

/** The gradient format versions this miner writes (SPEC §3.5, §4.2). */
export type FormatVersion = 1 | 2;

/** The keys of GET /v1/hparams this miner reads (SPEC §3, §4.2, §5.3). */
export interface Hparams {
  compression: {
    target_chunk: number;
    topk_compression: number;
    quantization_bins: number;
    quantization_range: number;
    use_dct: boolean;
  };
  sync: { param_sample_offset: number; param_sample_size: number };
  limits: { max_single_upload_bytes: number };
  window: { time_window_delta_seconds: number };
  intake: { format_versions: number[] };
}

/** GET /v1/model/manifest: the SPEC names "names and shapes in order"; the JSON keys are the validator's. */
export interface Manifest {
  readonly parameters: readonly { readonly name: string; readonly shape: readonly number[] }[];
}

interface CurrentWindow {
  netuid: number;
  window: number;
  put_window: { window: number; opens_at_ms: number; closes_at_ms: number; state: string } | null;
}

export interface Submission {
  window: number;
  uid: number;
  hotkey: string;
  status: string;
  error: { code: string; message: string } | null;
}

export interface SpecMinerResult {
  readonly hotkey: string;
  /** What GET /v1/hotkeys/{hotkey} answered. */
  readonly lookup: { hotkey: string; uid: number; netuid: number };
  readonly window: number;
  readonly baseWindow: number;
  /** The format version of the file it sent. */
  readonly formatVersion: FormatVersion;
  /** The PUT's status and body. */
  readonly put: { status: number; body: unknown };
  /** The submission once its status left `received` (or the last one seen). */
  readonly verdict: Submission;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

// --- keys and signing (SPEC §5.1) ---------------------------------------------------------------

/** An sr25519 key pair from a dev URI such as `//Name//hot` (the dev phrase, hard derivations). */
export async function devKeypair(suri: string): Promise<{ publicKey: Uint8Array; secretKey: Uint8Array }> {
  await cryptoWaitReady();
  const { phrase, path } = keyExtractSuri(suri.startsWith("//") ? `${DEV_PHRASE}${suri}` : suri);
  return keyFromPath(sr25519PairFromSeed(mnemonicToMiniSecret(phrase)), path, "sr25519");
}

/** The upload headers of SPEC §5.2 for a single upload, signed over §5.1's message. */
function uploadHeaders(
  file: Uint8Array,
  at: { netuid: number; window: number; uid: number },
  pair: { publicKey: Uint8Array; secretKey: Uint8Array },
): Record<string, string> {
  const sha256 = createHash("sha256").update(file).digest("hex");
  const message = `templar-edge/v1/gradient|${at.netuid}|${at.window}|${at.uid}|${sha256}|${file.length}`;
  const signature = sr25519Sign(new TextEncoder().encode(message), pair);
  return {
    "X-Templar-Hotkey": encodeAddress(pair.publicKey, 42),
    "X-Templar-Sha256": sha256,
    "X-Templar-Signature": `0x${Buffer.from(signature).toString("hex")}`,
    "Content-Length": String(file.length),
  };
}

// --- compression (SPEC §3) ----------------------------------------------------------------------

/** The largest divisor of n that is ≤ t (§3.1). */
function split(n: number, t: number): number {
  if (n <= t) return n;
  for (let d = t; d > 1; d--) if (n % d === 0) return d;
  return 1;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Tensor {
  dtype: "U8" | "F32";
  shape: number[];
  data: Uint8Array;
}

/**
 * Format version 2's coding of one chunk's indices (§3.5): `x` ascending, all below `totalk`.
 * L low bits each, the largest L with k·2^L ≤ totalk; the upper part (U = ((totalk − 1) >> L) + k
 * bits) has bit (x_t >> L) + t set for every t; the low part holds x_t's low L bits at bits
 * [t·L, t·L + L); bit b of a part is bit b & 7 of its byte b >> 3; padding bits stay zero.
 */
function eliasFano(x: ArrayLike<number>, totalk: number): Uint8Array {
  const k = x.length;
  let L = 0;
  while (k * 2 ** (L + 1) <= totalk) L++;
  const U = ((totalk - 1) >> L) + k;
  const upperBytes = Math.ceil(U / 8);
  const out = new Uint8Array(upperBytes + Math.ceil((k * L) / 8));
  const setBit = (part: number, b: number) => {
    out[part + (b >> 3)] = (out[part + (b >> 3)] as number) | (1 << (b & 7));
  };
  for (let t = 0; t < k; t++) {
    const xt = x[t] as number;
    if (xt >= totalk || (t > 0 && xt <= (x[t - 1] as number))) throw new Error("indices must ascend below totalk");
    setBit(0, (xt >> L) + t);
    for (let j = 0; j < L; j++) if ((xt >> j) & 1) setBit(upperBytes, t * L + j);
  }
  return out;
}

/** The four tensors of one parameter (§4.1) from its values `g` (row-major), DCT off. */
function compressParam(
  g: Float32Array,
  shape: readonly number[],
  hp: Hparams["compression"],
  version: FormatVersion,
): Record<string, Tensor> {
  const t = hp.target_chunk;
  let grid: number[];
  let h = 1;
  let w: number;
  let cols = 1;
  if (shape.length === 2) {
    const [R, C] = shape as [number, number];
    h = split(R, t);
    w = split(C, t);
    grid = [R / h, C / w];
    cols = C;
  } else {
    w = split(shape[0] as number, t);
    grid = [(shape[0] as number) / w];
  }
  const totalk = h * w;
  let k = Math.min(hp.topk_compression, totalk);
  k -= k % 2;
  const chunks = grid.reduce((a, b) => a * b, 1);
  // Chunks are numbered row-major over the grid; a 1-D grid is one row.
  const gridCols = grid.at(-1) as number;
  const indices = new Uint16Array(chunks * k);
  const values = new Float64Array(chunks * k);
  const chunk = new Float32Array(totalk);
  for (let c = 0; c < chunks; c++) {
    const y = Math.floor(c / gridCols);
    const x = c % gridCols;
    // Element e = i·w + j of chunk (y, x) is G[y·h + i, x·w + j] (§3.1).
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        chunk[i * w + j] =
          shape.length === 2 ? (g[(y * h + i) * cols + x * w + j] as number) : (g[x * w + j] as number);
    const order = Array.from({ length: totalk }, (_, e) => e);
    order.sort((a, b) => Math.abs(chunk[b] as number) - Math.abs(chunk[a] as number) || a - b);
    const kept = order.slice(0, k).sort((a, b) => a - b);
    kept.forEach((e, n) => {
      indices[c * k + n] = e;
      values[c * k + n] = chunk[e] as number;
    });
  }
  // Quantization over all kept values of the parameter (§3.4).
  const n = values.length;
  const bins = hp.quantization_bins;
  const shift = Math.fround(values.reduce((a, b) => a + b, 0) / n);
  const centred = values.map((v) => Math.fround(v - shift));
  const sigma = Math.sqrt(centred.reduce((a, b) => a + b * b, 0)) / Math.sqrt(n - 1);
  let scale = (hp.quantization_range * sigma) / bins;
  if (scale === 0 || !Number.isFinite(scale)) scale = 1;
  const codes = new Uint8Array(n);
  const sums = new Float64Array(bins);
  const counts = new Float64Array(bins);
  centred.forEach((c, i) => {
    const code = Math.min(bins - 1, Math.max(0, roundHalfEven(c / scale + Math.floor(bins / 2))));
    codes[i] = code;
    sums[code] = (sums[code] as number) + c;
    counts[code] = (counts[code] as number) + 1;
  });
  const lookup = new Float32Array(bins).map((_, b) =>
    (counts[b] as number) ? (sums[b] as number) / (counts[b] as number) : 0,
  );

  // Packing (§3.5): indices 12 bits each, two in three bytes (version 1) or Elias-Fano chunk
  // by chunk (version 2; the kept indices are ascending); 2-bit codes four a byte, per chunk.
  let idxs: Uint8Array;
  let perChunkIdx: number;
  if (version === 1) {
    perChunkIdx = (3 * k) / 2;
    idxs = new Uint8Array(chunks * perChunkIdx);
    for (let p = 0; p < (chunks * k) / 2; p++) {
      const a = indices[2 * p] as number;
      const b = indices[2 * p + 1] as number;
      idxs[3 * p] = a & 0xff;
      idxs[3 * p + 1] = (a >> 8) | ((b & 0x0f) << 4);
      idxs[3 * p + 2] = b >> 4;
    }
  } else {
    const coded = Array.from({ length: chunks }, (_, c) => eliasFano(indices.subarray(c * k, (c + 1) * k), totalk));
    perChunkIdx = (coded[0] as Uint8Array).length;
    idxs = new Uint8Array(chunks * perChunkIdx);
    for (const [c, bytes] of coded.entries()) idxs.set(bytes, c * perChunkIdx);
  }
  const perChunk = Math.ceil(k / 4);
  const packed = new Uint8Array(chunks * perChunk);
  for (let c = 0; c < chunks; c++)
    for (let tt = 0; tt < k; tt++)
      packed[c * perChunk + (tt >> 2)] =
        (packed[c * perChunk + (tt >> 2)] as number) | ((codes[c * k + tt] as number) << (2 * (tt & 3)));
  return {
    idxs: { dtype: "U8", shape: [...grid, perChunkIdx], data: idxs },
    codes: { dtype: "U8", shape: [...grid, perChunk], data: packed },
    lookup: { dtype: "F32", shape: [bins], data: f32Bytes(lookup) },
    shift: { dtype: "F32", shape: [], data: f32Bytes(Float32Array.of(shift)) },
  };
}

/** float32 values as little-endian bytes. */
function f32Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (const [i, v] of values.entries()) view.setFloat32(i * 4, v, true);
  return out;
}

// --- safetensors (SPEC §4) ----------------------------------------------------------------------

/** A safetensors file: u64 LE header length, the JSON header (space-padded to 8 bytes), the data. */
function writeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}

/**
 * The gradient file (§4) of one dense pseudo-gradient per manifest parameter, with `metadata` as
 * is; the indices are coded as its `format_version` ("1" or "2") says.
 */
export function gradientFile(
  manifest: Manifest,
  grads: readonly Float32Array[],
  compression: Hparams["compression"],
  metadata: Record<string, string>,
): Uint8Array {
  const version = Number(metadata.format_version);
  if (version !== 1 && version !== 2) throw new Error(`this miner writes format versions 1 and 2, not ${version}`);
  const tensors: Record<string, Tensor> = {};
  manifest.parameters.forEach((p, i) => {
    const parts = compressParam(grads[i] as Float32Array, p.shape, compression, version);
    for (const [part, t] of Object.entries(parts)) tensors[`${p.name}.${part}`] = t;
  });
  return writeSafetensors(tensors, metadata);
}

/**
 * `param_sample` (§4.2) from θ (GET /v1/checkpoints/{S}, a safetensors file of F32 or BF16
 * tensors): the values at flat positions [offset, offset + size) of each parameter that has them.
 */
function paramSample(checkpoint: Uint8Array, manifest: Manifest, sync: Hparams["sync"]): Record<string, number[]> {
  const view = new DataView(checkpoint.buffer, checkpoint.byteOffset, checkpoint.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(checkpoint.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + n;
  const end = sync.param_sample_offset + sync.param_sample_size;
  const sample: Record<string, number[]> = {};
  for (const p of manifest.parameters) {
    if (p.shape.reduce((a, b) => a * b, 1) < end) continue;
    const entry = header[p.name];
    if (!entry) throw new Error(`the checkpoint has no tensor ${p.name}`);
    const values: number[] = [];
    for (let i = sync.param_sample_offset; i < end; i++) {
      const at = base + entry.data_offsets[0];
      if (entry.dtype === "F32") values.push(view.getFloat32(at + 4 * i, true));
      else if (entry.dtype === "BF16") {
        const bits = new DataView(new ArrayBuffer(4));
        bits.setUint32(0, view.getUint16(at + 2 * i, true) << 16);
        values.push(bits.getFloat32(0));
      } else throw new Error(`checkpoint tensor ${p.name} is ${entry.dtype}, not F32 or BF16`);
    }
    sample[p.name] = values;
  }
  return sample;
}

/** Deterministic pseudo-random gradient values (any values make a format-valid file). */
function randomValues(count: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.01;
  });
}

// --- the miner ----------------------------------------------------------------------------------

/**
 * One upload as a miner of one's own does it: learns its uid (GET /v1/hotkeys/{hotkey}), waits
 * for an open put window with `marginMs` to spare, reads θ of that window for param_sample,
 * writes, signs and PUTs the file, then polls its submission until a verdict.
 */
export async function runSpecOnlyMiner(opts: {
  url: string;
  suri: string;
  timeoutMs: number;
  marginMs?: number;
  log?: (line: string) => void;
}): Promise<SpecMinerResult> {
  const { url } = opts;
  const log = opts.log ?? (() => {});
  const deadline = Date.now() + opts.timeoutMs;
  const pair = await devKeypair(opts.suri);
  const hotkey = encodeAddress(pair.publicKey, 42);
  const hp = await getJson<Hparams>(`${url}/v1/hparams`);
  if (hp.compression.use_dct) throw new Error("this miner does not implement the DCT (SPEC §3.2)");
  // The highest format version the validator accepts that this miner writes (§4.2).
  const formatVersion = ([2, 1] as const).find((v) => hp.intake.format_versions.includes(v));
  if (formatVersion === undefined)
    throw new Error(`the validator accepts format versions [${hp.intake.format_versions}], none of 1 and 2`);
  const manifest = await getJson<Manifest>(`${url}/v1/model/manifest`);
  const lookup = await getJson<SpecMinerResult["lookup"]>(`${url}/v1/hotkeys/${hotkey}`);
  log(`hotkey ${hotkey} holds uid ${lookup.uid} on netuid ${lookup.netuid}`);

  // The put window of S opens with the first block of S+1 (§1): wait for one open long enough.
  const margin = opts.marginMs ?? 6000;
  let put: NonNullable<CurrentWindow["put_window"]>;
  for (;;) {
    const res = await fetch(`${url}/v1/windows/current`);
    // 503 is the validator's own trouble (e.g. CHAIN_UNAVAILABLE): retry later (SPEC §8).
    const text = await res.text();
    if (!res.ok && res.status !== 503) throw new Error(`GET /v1/windows/current: ${res.status} ${text}`);
    const p = res.ok ? (JSON.parse(text) as CurrentWindow).put_window : null;
    if (p && p.state === "open" && Date.now() + margin < p.closes_at_ms && Date.now() >= p.opens_at_ms) {
      put = p;
      break;
    }
    if (Date.now() > deadline) throw new Error("no open put window before the deadline");
    await sleep(500);
  }
  const window = put.window;

  const res = await fetch(`${url}/v1/checkpoints/${window}`);
  if (!res.ok) throw new Error(`GET /v1/checkpoints/${window}: ${res.status} ${await res.text()}`);
  const baseWindow = Number(res.headers.get("X-Templar-Checkpoint-Window") ?? window);
  const checkpoint = new Uint8Array(await res.arrayBuffer());

  const grads = manifest.parameters.map((p, i) =>
    randomValues(
      p.shape.reduce((a, b) => a * b, 1),
      window * 1000 + i + 1,
    ),
  );
  const c = hp.compression;
  const file = gradientFile(manifest, grads, c, {
    format: "templar-edge.gradient",
    format_version: String(formatVersion),
    netuid: String(lookup.netuid),
    window: String(window),
    uid: String(lookup.uid),
    hotkey,
    base_window: String(baseWindow),
    target_chunk: String(c.target_chunk),
    topk_compression: String(c.topk_compression),
    quantization_bins: String(c.quantization_bins),
    quantization_range: String(c.quantization_range),
    use_dct: "false",
    param_sample: JSON.stringify(paramSample(checkpoint, manifest, hp.sync)),
  });
  if (file.length > hp.limits.max_single_upload_bytes) throw new Error("this miner sends single uploads only (§5.4)");

  const at = { netuid: lookup.netuid, window, uid: lookup.uid };
  const sent = await fetch(`${url}/v1/gradients/${window}/${lookup.uid}`, {
    method: "PUT",
    body: file,
    headers: uploadHeaders(file, at, pair),
  });
  const body = await sent.json();
  log(`PUT window ${window} uid ${lookup.uid}: ${sent.status} (${file.length} bytes)`);
  let verdict = (body as { submission?: Submission }).submission as Submission;
  while (sent.status === 202 && verdict.status === "received" && Date.now() < deadline) {
    await sleep(500);
    verdict = (await getJson<{ submission: Submission }>(`${url}/v1/submissions/${window}/${lookup.uid}`)).submission;
  }
  return { hotkey, lookup, window, baseWindow, formatVersion, put: { status: sent.status, body }, verdict };
}

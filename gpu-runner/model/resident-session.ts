/**
 * θ-resident evaluation of the llama family (docs/MODEL.md §9). θ is held by the session as
 * initializers, read once per checkpoint from external data (a safetensors checkpoint, or a file
 * written from a flat Float32Array), and each step to evaluate is fed as a sparse delta per
 * parameter (a submission's: k pairs per chunk, a fixed size; the window's reference step: the
 * union of its peers' coordinates, a size of its own), added inside the graph:
 *
 *   w = Reshape(ScatterElements(θ_flat, indices, values, reduction = "add"), shape)
 *
 * Why: onnxruntime-node has no CUDA IO binding, so every input is copied host → device on every
 * run; feeding θ would copy all of it per forward, while the delta is about 1/64 of it (k = 64 of
 * every 64×64 chunk). Restore is free, because nothing in the session changes: a run without a
 * delta feeds zeros. The caller scales the delta (−eval_lr · g, {@link residentDelta}).
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import ort from "onnxruntime-node";
import { gradientLayout, type ParamLayout } from "../../schema/codec/chunking.ts";
import { sparseParam } from "../../schema/codec/decode.ts";
import type { CompressedParam } from "../../schema/codec/gradient-format.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { CompressionHparams } from "../../schema/hparams.ts";
import { type LlamaConfig, llamaManifest } from "../../schema/model/llama.ts";
import { numel, type ParameterSpec, parameterSlots } from "../../schema/model/manifest.ts";
import { buildLlamaLossGraph, LLAMA_LOSS, LLAMA_SAMPLE_LOSSES, VALID_TOKENS } from "./llama.ts";
import { type DType, DYNAMIC, onnxDataType } from "./onnx-graph.ts";
import type { SafetensorsCheckpoint } from "./safetensors.ts";
import { type Device, llamaBatchFeeds, openModelSession } from "./session-io.ts";

/**
 * Delta indices are int32 flat indices (4 bytes a pair less than int64), so a parameter must have
 * fewer than 2³¹ elements: then its element count, not only its largest index, fits an int32,
 * which kernels that size their loops in 32 bits need. Covenant-72B's embedding and head,
 * [262144, 8192], have exactly 2³¹ and are refused when the graph is built (they would need int64
 * indices or a split by rows; docs/MODEL.md §9).
 */
export const MAX_RESIDENT_ELEMENTS = 2 ** 31 - 1;

/** The graph input names of one parameter's delta. */
export function deltaInputNames(parameter: string): { indices: string; values: string } {
  return { indices: `delta_indices.${parameter}`, values: `delta_values.${parameter}` };
}

/** Pairs one parameter's delta feed holds: top-k is fixed, so k per chunk fits every submission. */
export function deltaCapacity(layout: ParamLayout): number {
  return layout.chunks * layout.k;
}

/** A step to evaluate, per parameter in manifest order: flat indices and the values added there. */
export interface ResidentDelta {
  readonly indices: readonly Int32Array[];
  readonly values: readonly Float32Array[];
}

/**
 * The delta feeds of a decoded gradient applied at `evalLr`: −evalLr · g per parameter (what
 * applyGradient adds on the host), each of {@link deltaCapacity} pairs, unused slots left at
 * index 0 with value 0 (adding 0 changes nothing). Only a gradient coded without the DCT is sparse.
 */
export function residentDelta(
  params: readonly CompressedParam[],
  layouts: readonly ParamLayout[],
  useDct: boolean,
  evalLr: number,
): ResidentDelta {
  if (useDct) throw new Error("θ-resident evaluation needs use_dct false: a DCT-coded chunk is dense");
  if (params.length !== layouts.length) throw new Error(`expected ${layouts.length} parameters, got ${params.length}`);
  const indices: Int32Array[] = [];
  const values: Float32Array[] = [];
  layouts.forEach((layout, i) => {
    const idx = new Int32Array(deltaCapacity(layout));
    const val = new Float32Array(idx.length);
    sparseParam(params[i] as CompressedParam, layout, -evalLr, idx, val);
    indices.push(idx);
    values.push(val);
  });
  return { indices, values };
}

/**
 * The delta of a dense step −lr · direction (the window's reference step, flat in manifest order):
 * per parameter the coordinates where it is not zero (at least one pair, adding 0 when none).
 */
export function directionDelta(direction: Float32Array, layouts: readonly ParamLayout[], lr: number): ResidentDelta {
  const indices: Int32Array[] = [];
  const values: Float32Array[] = [];
  let offset = 0;
  for (const layout of layouts) {
    const part = direction.subarray(offset, offset + layout.numel);
    let n = 0;
    for (let j = 0; j < part.length; j++) if (part[j] !== 0) n++;
    const idx = new Int32Array(Math.max(n, 1));
    const val = new Float32Array(idx.length);
    let at = 0;
    for (let j = 0; j < part.length; j++) {
      if (part[j] === 0) continue;
      idx[at] = j;
      val[at++] = -lr * (part[j] as number);
    }
    indices.push(idx);
    values.push(val);
    offset += layout.numel;
  }
  return { indices, values };
}

/** Where θ comes from: a flat vector in manifest order, or a checkpoint under the manifest's HF names. */
export type ThetaSource = { readonly params: Float32Array } | { readonly checkpoint: SafetensorsCheckpoint };

/** One parameter's bytes on disk, for an external-data initializer. */
interface Stored {
  readonly location: string;
  readonly offset: number;
  readonly length: number;
  readonly dtype: DType;
}

const STORED_DTYPES: Readonly<Record<string, DType>> = { F32: "float32", BF16: "bfloat16", F16: "float16" };
/** Bytes per positional write: fs refuses single writes above 2 GiB − 1. */
const WRITE_CHUNK_BYTES = 1 << 30;

/** Writes a flat θ to `file` (the same bytes, manifest order), in bounded positional writes. */
async function writeFlat(file: string, params: Float32Array): Promise<void> {
  const handle = await open(file, "w");
  try {
    const bytes = new Uint8Array(params.buffer, params.byteOffset, params.byteLength);
    for (let at = 0; at < bytes.length; at += WRITE_CHUNK_BYTES)
      await handle.write(bytes, at, Math.min(WRITE_CHUNK_BYTES, bytes.length - at), at);
  } finally {
    await handle.close();
  }
}

/** Each parameter's place in a checkpoint's files, checked against the manifest; and their one folder. */
function checkpointPlaces(
  checkpoint: SafetensorsCheckpoint,
  parameters: readonly ParameterSpec[],
): { folder: string; stored: Map<string, Stored> } {
  const stored = new Map<string, Stored>();
  let folder: string | undefined;
  for (const spec of parameters) {
    const entry = checkpoint.entry(spec.name);
    const file = checkpoint.fileOf(spec.name).file;
    const details = { file, tensor: spec.name };
    if (entry.shape.join(",") !== spec.shape.join(","))
      throw new EdgeError(
        "MODEL_FILE_INVALID",
        `${file}, tensor ${spec.name}: shape [${entry.shape}] is not the manifest's [${spec.shape}]`,
        { reason: "shape", ...details },
      );
    const dtype = STORED_DTYPES[entry.dtype];
    if (dtype === undefined)
      throw new EdgeError(
        "MODEL_FILE_INVALID",
        `${file}, tensor ${spec.name}: dtype ${entry.dtype} is not F32/BF16/F16`,
        {
          reason: "dtype",
          ...details,
        },
      );
    // onnxruntime takes one external-data folder per session; shards always sit beside their index.
    folder ??= path.dirname(file);
    if (path.dirname(file) !== folder) throw new Error(`checkpoint files lie in ${folder} and ${path.dirname(file)}`);
    stored.set(spec.name, {
      location: path.basename(file),
      offset: entry.start,
      length: entry.end - entry.start,
      dtype,
    });
  }
  return { folder: folder as string, stored };
}

/** A batch's losses as Templar's evaluate_model computes them. */
export interface ResidentLosses {
  /** The mean of the per-sample losses. */
  readonly loss: number;
  /** Each sample's mean loss over its valid positions (NaN when it has none). */
  readonly perSample: number[];
  /** Each sample's count of valid positions. */
  readonly validTokens: number[];
}

/** The llama loss graph with θ resident in the session and the step to evaluate fed as a sparse delta. */
export class ResidentLlamaSession {
  readonly config: LlamaConfig;
  readonly batch: number;
  readonly seqLen: number;
  /** The chunk layouts the delta feeds follow, in manifest order. */
  readonly layouts: readonly ParamLayout[];
  readonly #session: ort.InferenceSession;
  /** The feeds of "no step": zeros, allocated once and reused (tensors wrap them without a copy). */
  readonly #zero: Record<string, ort.Tensor>;

  private constructor(
    session: ort.InferenceSession,
    config: LlamaConfig,
    layouts: readonly ParamLayout[],
    batch: number,
    seqLen: number,
  ) {
    this.#session = session;
    this.config = config;
    this.layouts = layouts;
    this.batch = batch;
    this.seqLen = seqLen;
    // "No step": one pair adding 0 per parameter, so a before-run copies almost nothing to a device.
    this.#zero = this.#deltaFeeds({
      indices: layouts.map(() => new Int32Array(1)),
      values: layouts.map(() => new Float32Array(1)),
    });
  }

  /**
   * Builds the resident graph for `batch` samples of `seqLen` tokens and loads θ into it, once.
   * A flat θ is written to a temporary file that onnxruntime reads (and that is deleted once the
   * session is open), so θ is not copied again through the externalData option; a checkpoint's
   * tensors are read by onnxruntime straight from its files (BF16/F16 Cast to float32 in the graph).
   */
  static async create(
    config: LlamaConfig,
    opts: {
      readonly batch: number;
      readonly seqLen: number;
      readonly compression: CompressionHparams;
      readonly theta: ThetaSource;
      readonly device?: Device;
    },
  ): Promise<ResidentLlamaSession> {
    const manifest = llamaManifest(config);
    const layouts = gradientLayout(manifest, opts.compression);
    const tooLarge = layouts.find((l) => l.numel > MAX_RESIDENT_ELEMENTS);
    if (tooLarge)
      throw new Error(
        `${tooLarge.name} has ${tooLarge.numel} elements: int32 delta indices need fewer than 2^31 (docs/MODEL.md §9)`,
      );
    let folder: string;
    let stored: Map<string, Stored>;
    let scratch: string | undefined;
    try {
      if ("params" in opts.theta) {
        const { slots, total } = parameterSlots(manifest);
        if (opts.theta.params.length !== total)
          throw new Error(`expected ${total} parameters, got ${opts.theta.params.length}`);
        scratch = await mkdtemp(path.join(tmpdir(), "theta-"));
        folder = scratch;
        await writeFlat(path.join(scratch, "theta.bin"), opts.theta.params);
        stored = new Map(
          slots.map((s) => [
            s.spec.name,
            { location: "theta.bin", offset: s.offset * 4, length: s.numel * 4, dtype: "float32" as DType },
          ]),
        );
      } else {
        ({ folder, stored } = checkpointPlaces(opts.theta.checkpoint, manifest.parameters));
      }
      const graph = buildLlamaLossGraph(config, opts.batch, opts.seqLen, {
        parameter: (spec, g) => {
          const n = numel(spec.shape);
          const at = stored.get(spec.name) as Stored;
          // Stored flat: a Reshape of a constant would be folded into a second copy of θ at load.
          let w = g.external(spec.name, [n], at.dtype, at);
          if (at.dtype !== "float32") w = g.node("Cast", [w], [n], { to: onnxDataType("float32") }, "float32");
          const names = deltaInputNames(spec.name);
          const summed = g.node(
            "ScatterElements",
            [w, g.input(names.indices, [DYNAMIC], "int32"), g.input(names.values, [DYNAMIC])],
            [n],
            { axis: 0, reduction: "add" },
          );
          return spec.shape.length === 1 ? summed : g.node("Reshape", [summed, g.ints(spec.shape)], spec.shape);
        },
      });
      const session = await openModelSession(graph, opts.device ?? "cpu", folder);
      return new ResidentLlamaSession(session, config, layouts, opts.batch, opts.seqLen);
    } finally {
      if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    }
  }

  #deltaFeeds(delta: ResidentDelta): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    this.layouts.forEach((layout, i) => {
      const idx = delta.indices[i];
      const val = delta.values[i];
      if (idx === undefined || val === undefined || idx.length !== val.length || idx.length === 0)
        throw new Error(`delta of ${layout.name}: indices and values must be non-empty and of one length`);
      const k = idx.length;
      const names = deltaInputNames(layout.name);
      feeds[names.indices] = new ort.Tensor("int32", idx, [k]);
      feeds[names.values] = new ort.Tensor("float32", val, [k]);
    });
    return feeds;
  }

  /**
   * The losses of `batch` samples of `seqLen` token ids (row-major; labels as Templar builds
   * them) under θ + delta, or under θ when delta is null. θ in the session never changes.
   */
  async losses(ids: ArrayLike<number>, delta: ResidentDelta | null): Promise<ResidentLosses> {
    const feeds = {
      ...llamaBatchFeeds(ids, this.batch, this.seqLen, this.config.eos_token_id),
      ...(delta === null ? this.#zero : this.#deltaFeeds(delta)),
    };
    const out = await this.#session.run(feeds, [LLAMA_LOSS, LLAMA_SAMPLE_LOSSES, VALID_TOKENS]);
    return {
      loss: (out[LLAMA_LOSS] as ort.Tensor).data[0] as number,
      perSample: Array.from((out[LLAMA_SAMPLE_LOSSES] as ort.Tensor).data as Float32Array),
      validTokens: Array.from((out[VALID_TOKENS] as ort.Tensor).data as Float32Array),
    };
  }

  /** The session's input names (θ is not among them: it is resident). */
  get inputNames(): readonly string[] {
    return this.#session.inputNames;
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}

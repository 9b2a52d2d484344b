/**
 * How a chunk's indices are stored, by gradient format version (docs/SPEC.md §3.5):
 *   version 1: 12 bits each, two in three bytes, in any order (Templar v2.1.3's packing);
 *   version 2: Elias-Fano, ascending (./elias-fano.ts): 64 bytes instead of 96 at top-64.
 * Both give every chunk the same number of bytes, so any chunk is one ranged read.
 */
import { EdgeError } from "../errors.ts";
import type { ParamLayout } from "./chunking.ts";
import { checkEliasFano, decodeEliasFano, type EliasFanoShape, eliasFanoShape, encodeEliasFano } from "./elias-fano.ts";
import type { FormatVersion } from "./format-version.ts";
import { pack12, unpack12Into } from "./pack12.ts";

const shapes = new WeakMap<ParamLayout, EliasFanoShape>();
/** The last layout looked up and its shape: decoders ask chunk after chunk for the same one. */
let lastLayout: ParamLayout | undefined;
let lastShape: EliasFanoShape | undefined;

/** The Elias-Fano shape of a layout's chunks, cached. */
function shapeOf(layout: ParamLayout): EliasFanoShape {
  if (layout === lastLayout && lastShape) return lastShape;
  let shape = shapes.get(layout);
  if (!shape) {
    shape = eliasFanoShape(layout.totalk, layout.k);
    shapes.set(layout, shape);
  }
  lastLayout = layout;
  lastShape = shape;
  return shape;
}

/** Bytes of one chunk's indices in `version`. */
export function indexBytesPerChunk(layout: ParamLayout, version: FormatVersion): number {
  return version === 1 ? (3 * layout.k) / 2 : shapeOf(layout).bytes;
}

/** Codes every chunk's k indices (`indices`: chunks × k, ascending within each chunk for version 2). */
export function packIndices(indices: Uint16Array, layout: ParamLayout, version: FormatVersion): Uint8Array {
  if (version === 1) return pack12(indices);
  const shape = shapeOf(layout);
  const out = new Uint8Array(layout.chunks * shape.bytes);
  for (let c = 0; c < layout.chunks; c++) {
    const from = c * layout.k;
    for (let t = 0; t < layout.k; t++) {
      const x = indices[from + t] as number;
      if (x >= layout.totalk || (t > 0 && x <= (indices[from + t - 1] as number)))
        throw new EdgeError(
          "ENCODE_INPUT_INVALID",
          `${layout.name}, chunk ${c}: indices must ascend below ${layout.totalk}`,
        );
    }
    encodeEliasFano(indices, from, shape, out, c * shape.bytes);
  }
  return out;
}

/** Decodes chunk c's k indices into out[0 … k); no checks (the file was validated). */
export function unpackChunkIndices(
  bytes: Uint8Array,
  c: number,
  layout: ParamLayout,
  version: FormatVersion,
  out: Uint16Array | Int32Array,
): void {
  if (version === 1) {
    unpack12Into(bytes, (c * 3 * layout.k) / 2, out, 0, layout.k);
    return;
  }
  const shape = shapeOf(layout);
  decodeEliasFano(bytes, c * shape.bytes, shape, out, 0);
}

/**
 * Decodes and checks one chunk's indices at bytes[at …], as the validator does: all below
 * totalk and distinct (version 2 also: ascending, exactly coded). Throws the coded fault.
 */
export function checkChunkIndices(
  bytes: Uint8Array,
  at: number,
  layout: ParamLayout,
  version: FormatVersion,
  out: Uint16Array,
  seen: Int32Array,
  stamp: number,
  where: string,
): void {
  const { k, totalk } = layout;
  if (version === 2) {
    checkEliasFano(bytes, at, shapeOf(layout), out, where);
    return;
  }
  unpack12Into(bytes, at, out, 0, k);
  for (let t = 0; t < k; t++) {
    const i = out[t] as number;
    if (i >= totalk)
      throw new EdgeError("INDEX_OUT_OF_RANGE", `${where}: index ${i} is not below the chunk size ${totalk}`);
    if (seen[i] === stamp) throw new EdgeError("INDEX_DUPLICATE", `${where}: index ${i} appears twice`);
    seen[i] = stamp;
  }
}

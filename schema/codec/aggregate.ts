/**
 * Multi-peer aggregation for the outer step (Templar's batch_decompress with clip_norm, §3.6):
 * per parameter, each peer's dequantized values are scaled by min(1, m / (‖v‖ + 1e-8)) where m
 * is the lower median of the peers' norms, then all peers' coordinates are scatter-meaned.
 */
import type { ParamLayout } from "./chunking.ts";
import { unpackChunkCodes } from "./codes2bit.ts";
import { ChunkAccumulator, ChunkDecoder } from "./decode.ts";
import type { CompressedParam } from "./gradient-format.ts";
import { binValues } from "./quantize.ts";

/** Lower median (torch.median semantics: for an even count, the lower of the middle two). */
export function lowerMedian(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1];
}

/** ‖v‖₂ of a compressed parameter's dequantized values, from a histogram of its codes. */
export function dequantizedNorm(param: CompressedParam, layout: ParamLayout): number {
  const counts = new Float64Array(param.lookup.length);
  const codes = new Uint8Array(layout.k);
  for (let c = 0; c < layout.chunks; c++) {
    unpackChunkCodes(param.codes, c * layout.codeBytesPerChunk, layout.k, codes);
    for (let i = 0; i < layout.k; i++) counts[codes[i]]++;
  }
  const bins = binValues(param.lookup, param.shift);
  let sq = 0;
  for (let b = 0; b < bins.length; b++) sq += counts[b] * bins[b] * bins[b];
  return Math.sqrt(sq);
}

/** Per-peer clip factors min(1, median / (norm + 1e-8)) for one parameter. */
export function clipFactors(peers: readonly CompressedParam[], layout: ParamLayout): number[] {
  const norms = peers.map((p) => dequantizedNorm(p, layout));
  const m = lowerMedian(norms);
  return norms.map((n) => Math.min(1, m / (n + 1e-8)));
}

/** target[offset …] += factor · aggregate(peers) for one parameter. */
export function accumulateAggregate(
  target: Float32Array,
  offset: number,
  peers: readonly CompressedParam[],
  layout: ParamLayout,
  useDct: boolean,
  factor: number,
): void {
  if (peers.length === 0) return;
  const clip = clipFactors(peers, layout);
  const decoders = peers.map((p) => new ChunkDecoder(p, layout));
  const acc = new ChunkAccumulator(layout, useDct, layout.k * peers.length);
  for (let c = 0; c < layout.chunks; c++) {
    acc.mean.reset();
    for (let p = 0; p < decoders.length; p++) {
      const d = decoders[p] as ChunkDecoder;
      const f = clip[p];
      d.read(c);
      // Templar scales the float32 values tensor in place, so the product is rounded to float32.
      for (let t = 0; t < layout.k; t++) acc.mean.add(d.idx[t], Math.fround(d.val[t] * f));
    }
    acc.flush(target, offset, c, factor);
  }
}

/** The aggregated dense gradient of many peers, flat in manifest order. */
export function aggregateGradients(
  peers: readonly (readonly CompressedParam[])[],
  layouts: readonly ParamLayout[],
  useDct: boolean,
): Float32Array {
  const total = layouts.reduce((n, l) => n + l.numel, 0);
  const out = new Float32Array(total);
  let offset = 0;
  layouts.forEach((layout, i) => {
    accumulateAggregate(
      out,
      offset,
      peers.map((p) => p[i] as CompressedParam),
      layout,
      useDct,
      1,
    );
    offset += layout.numel;
  });
  return out;
}

/**
 * Quantization codes packed four per byte (templar-edge's change to Templar's one code per byte).
 *
 * Each chunk's k codes take ceil(k/4) bytes; code i sits in byte i >> 2 at bits 2·(i & 3), lowest
 * bits first. Unused bits of a chunk's last byte are zero.
 */

/** Packs `chunks × k` codes (each 0..3) into `chunks × ceil(k/4)` bytes. */
export function packCodes(codes: Uint8Array, chunks: number, k: number): Uint8Array {
  const per = Math.ceil(k / 4);
  const out = new Uint8Array(chunks * per);
  for (let c = 0; c < chunks; c++) {
    const src = c * k;
    const dst = c * per;
    for (let i = 0; i < k; i++) out[dst + (i >> 2)] |= (codes[src + i] & 3) << ((i & 3) << 1);
  }
  return out;
}

/** Unpacks one chunk's k codes starting at bytes[from] into out[0..k). */
export function unpackChunkCodes(bytes: Uint8Array, from: number, k: number, out: Uint8Array): void {
  for (let i = 0; i < k; i++) out[i] = (bytes[from + (i >> 2)] >> ((i & 3) << 1)) & 3;
}

/** Unpacks `chunks × ceil(k/4)` bytes back into `chunks × k` codes. */
export function unpackCodes(bytes: Uint8Array, chunks: number, k: number): Uint8Array {
  const per = Math.ceil(k / 4);
  const out = new Uint8Array(chunks * k);
  const scratch = new Uint8Array(k);
  for (let c = 0; c < chunks; c++) {
    unpackChunkCodes(bytes, c * per, k, scratch);
    out.set(scratch, c * k);
  }
  return out;
}

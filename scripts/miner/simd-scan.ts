/**
 * A WebAssembly SIMD kernel for the first pass of top-k selection (schema/codec/topk.ts,
 * selectChunksByBits): which elements of a chunk have a magnitude above a threshold. It compares
 * float32 bits & 0x7fffffff with the threshold four lanes at a time, sixteen elements a step,
 * gathers the step's results into a 16-bit mask and stores only the elements whose bit is set
 * (a few per cent); the exact top-k among those stays in JavaScript, so the selection is the
 * same as without it.
 *
 * The module is assembled here, byte by byte, so that nothing is compiled at install time.
 * It imports a shared memory that holds the gradient and each worker's candidate list.
 */
import type { ParamLayout } from "../../schema/codec/chunking.ts";
import type { ChunkScanner } from "../../schema/codec/topk.ts";

/** The kernel's export: for each chunk element whose |x| bits exceed `threshold` (signed), writes
 *  at `out` the int32 pair (element number row · w + column, its float32 bits), in element order,
 *  and returns how many. Addresses are bytes. */
export type ScanKernel = (
  src: number,
  h: number,
  w: number,
  strideBytes: number,
  threshold: number,
  out: number,
) => number;

/** A shared WebAssembly memory: its buffer is a SharedArrayBuffer that worker threads can be sent. */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}

/** The WebAssembly API this file uses; declared here because the project's Node typings carry none of it. */
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** A shared memory of `pages` 64 KiB pages that cannot grow (so its buffer never changes). */
export function sharedWasmMemory(pages: number): WasmMemory {
  return new wasm.Memory({ initial: pages, maximum: pages, shared: true });
}

const I32 = 0x7f;
const V128 = 0x7b;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of an int32. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  return vector([...s].map((c) => [c.charCodeAt(0)]));
}

// Instructions used below.
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32 = (v: number) => [0x41, ...sleb(v)];
const ADD = 0x6a;
const AND = 0x71;
const GE_U = 0x4f;
const GT_S = 0x4a;
const SHL = 0x74;
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const IF = [0x04, 0x40];
const END = 0x0b;
const br = (d: number) => [0x0c, ...uleb(d)];
const brIf = (d: number) => [0x0d, ...uleb(d)];
const load = (offset: number) => [0x28, 2, ...uleb(offset)];
const store = (offset: number) => [0x36, 2, ...uleb(offset)];
const call = (f: number) => [0x10, ...uleb(f)];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const v128Load = (offset: number) => simd(0x00, 0, ...uleb(offset));
const I32X4_SPLAT = simd(0x11);
const V128_AND = simd(0x4e);
const I32X4_GT_S = simd(0x3b);
const I32X4_BITMASK = simd(0xa4);
const CTZ = 0x68;
const OR = 0x72;
const SUB = 0x6b;
const EQZ = 0x45;

/**
 * Stores candidate (base + e, the bits at row p's element e) at out + 8n and adds 1 to n; the
 * arguments are local indices.
 */
function storeCandidate(p: number, e: number, base: number, out: number, n: number): number[] {
  const slot = [...get(out), ...get(n), ...i32(3), SHL, ADD];
  return [
    ...slot,
    ...get(base),
    ...get(e),
    ADD,
    ...store(0),
    ...slot,
    ...get(p),
    ...get(e),
    ...i32(2),
    SHL,
    ADD,
    ...load(0),
    ...store(4),
    ...get(n),
    ...i32(1),
    ADD,
    ...set(n),
  ];
}

/**
 * Function 0, scalar: (p, from, to, base, thr, out, n) → n. For element t in [from, to) of the
 * row at byte p: when (bits & 0x7fffffff) > thr (signed), store (base + t, bits) at out + 8n, n += 1.
 */
function scalarBody(): number[] {
  const [p, from, to, base, thr, out, n] = [0, 1, 2, 3, 4, 5, 6];
  return [
    0, // no locals beyond the parameters
    ...BLOCK,
    ...LOOP,
    ...get(from),
    ...get(to),
    GE_U,
    ...brIf(1),
    ...get(p),
    ...get(from),
    ...i32(2),
    SHL,
    ADD,
    ...load(0),
    ...i32(0x7fffffff),
    AND,
    ...get(thr),
    GT_S,
    ...IF,
    ...storeCandidate(p, from, base, out, n),
    END,
    ...get(from),
    ...i32(1),
    ADD,
    ...set(from),
    ...br(0),
    END,
    END,
    ...get(n),
    END,
  ];
}

/** Function 1, the export: (src, h, w, stride, thr, out) → n; see ScanKernel. */
function scanBody(): number[] {
  const [src, h, w, stride, thr, out] = [0, 1, 2, 3, 4, 5];
  // Locals: r, j, n, p, w16, base, hits, at (i32), then absMask, thrV (v128).
  const [r, j, n, p, w16, base, hits, at, absMask, thrV] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const lanes = (offset: number) => [
    ...get(p),
    ...get(j),
    ...i32(2),
    SHL,
    ADD,
    ...v128Load(offset),
    ...get(absMask),
    ...V128_AND,
    ...get(thrV),
    ...I32X4_GT_S,
    ...I32X4_BITMASK,
  ];
  const scalar = (to: number[]) => [
    ...get(p),
    ...get(j),
    ...to,
    ...get(base),
    ...get(thr),
    ...get(out),
    ...get(n),
    ...call(0),
    ...set(n),
  ];
  return [
    ...vector([
      [8, I32],
      [2, V128],
    ]),
    ...i32(0x7fffffff),
    ...I32X4_SPLAT,
    ...set(absMask),
    ...get(thr),
    ...I32X4_SPLAT,
    ...set(thrV),
    ...get(w),
    ...i32(-16),
    AND,
    ...set(w16),
    ...get(src),
    ...set(p),
    ...BLOCK,
    ...LOOP,
    ...get(r),
    ...get(h),
    GE_U,
    ...brIf(1),
    ...i32(0),
    ...set(j),
    ...BLOCK,
    ...LOOP,
    ...get(j),
    ...get(w16),
    GE_U,
    ...brIf(1),
    // Sixteen elements: one bit each for passing the threshold, then one store per set bit.
    ...lanes(0),
    ...lanes(16),
    ...i32(4),
    SHL,
    OR,
    ...lanes(32),
    ...i32(8),
    SHL,
    OR,
    ...lanes(48),
    ...i32(12),
    SHL,
    OR,
    ...set(hits),
    ...BLOCK,
    ...LOOP,
    ...get(hits),
    EQZ,
    ...brIf(1),
    // at = j + (lowest set bit): the passing element's column.
    ...get(j),
    ...get(hits),
    CTZ,
    ADD,
    ...set(at),
    ...storeCandidate(p, at, base, out, n),
    ...get(hits),
    ...get(hits),
    ...i32(1),
    SUB,
    AND,
    ...set(hits),
    ...br(0),
    END,
    END,
    ...get(j),
    ...i32(16),
    ADD,
    ...set(j),
    ...br(0),
    END,
    END,
    // The row's last w mod 16 elements.
    ...scalar(get(w)),
    ...get(r),
    ...i32(1),
    ADD,
    ...set(r),
    ...get(base),
    ...get(w),
    ADD,
    ...set(base),
    ...get(p),
    ...get(stride),
    ADD,
    ...set(p),
    ...br(0),
    END,
    END,
    ...get(n),
    END,
  ];
}

/** Pages of 64 KiB in the largest wasm32 memory: the import accepts any shared memory. */
export const MAX_PAGES = 65536;

/** The module's bytes, importing env.memory (shared, any size). */
function moduleBytes(): Uint8Array {
  const body = (code: number[]) => [...uleb(code.length), ...code];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(
      1,
      vector([
        [0x60, ...vector(Array.from({ length: 7 }, () => [I32])), ...vector([[I32]])],
        [0x60, ...vector(Array.from({ length: 6 }, () => [I32])), ...vector([[I32]])],
      ]),
    ),
    ...section(2, vector([[...name("env"), ...name("memory"), 0x02, 0x03, ...uleb(0), ...uleb(MAX_PAGES)]])),
    ...section(3, vector([[0], [1]])),
    ...section(7, vector([[...name("scan"), 0x00, 1]])),
    ...section(10, vector([body(scalarBody()), body(scanBody())])),
  ]);
}

let compiled: object | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is missing; compiled once per thread. */
function scanModule(): object | null {
  if (compiled === undefined) {
    const bytes = moduleBytes();
    compiled = wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/** True where this runtime runs the kernel (WebAssembly SIMD). */
export function simdAvailable(): boolean {
  return scanModule() !== null;
}

/** The scan kernel over a shared `memory`, or undefined where WebAssembly SIMD is missing. */
export function scanKernel(memory: WasmMemory): ScanKernel | undefined {
  const module = scanModule();
  if (!module) return undefined;
  return new wasm.Instance(module, { env: { memory } }).exports.scan as ScanKernel;
}

/**
 * A ChunkScanner (schema/codec/topk.ts) running `kernel` over one parameter, `dense`, which must
 * be a view of `memory`; candidates go to the 2 · totalk int32 at byte `scratchAt` of it.
 */
export function simdChunkScanner(
  kernel: ScanKernel,
  memory: WasmMemory,
  scratchAt: number,
  dense: Float32Array,
  layout: ParamLayout,
): ChunkScanner {
  if (dense.buffer !== memory.buffer) throw new RangeError("the parameter does not lie in the kernel's memory");
  const { h, w, cols } = layout;
  const base = dense.byteOffset;
  return {
    found: new Int32Array(memory.buffer, scratchAt, 2 * layout.totalk),
    scan: (origin, threshold) => kernel(base + origin * 4, h, w, cols * 4, threshold, scratchAt),
  };
}

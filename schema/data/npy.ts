/**
 * NumPy's `.npy` format for the 1-D little-endian unsigned arrays of Templar's dataset
 * (src/tplr/sharded_dataset.py: `train_*.npy` as `<u4` tokens, `sample_ids_*.npy` as `<u8`).
 * Format: numpy/lib/format.py. The reader takes versions 1.0, 2.0 and 3.0; the writer emits 1.0
 * byte for byte as `numpy.save` does. Every refusal is an EdgeError `DATA_FILE_INVALID` whose
 * details name the file and a {@link NpyFault} reason.
 */
import { EdgeError } from "../errors.ts";

/** Why a `.npy` file was refused. */
export type NpyFault =
  | "missing"
  | "magic"
  | "version"
  | "header"
  | "dtype"
  | "fortran_order"
  | "shape"
  | "truncated"
  | "trailing";

/** The dtypes this reader takes: Templar's token and sample-id arrays. */
export type NpyDtype = "<u4" | "<u8";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
// numpy pads the header so a growing first axis can be rewritten in place (format.py).
const GROWTH_AXIS_MAX_DIGITS = 21;
/** The longest header the reader takes. */
export const MAX_HEADER_BYTES = 65_536;
const ITEM_SIZE: Record<NpyDtype, number> = { "<u4": 4, "<u8": 8 };

/** A parsed `.npy` header: dtype, length, and where the data starts. */
export interface NpyHeader {
  readonly dtype: NpyDtype;
  readonly length: number;
  readonly dataOffset: number;
}

function fault(reason: NpyFault, file: string, message: string, extra: Record<string, unknown> = {}): EdgeError {
  return new EdgeError("DATA_FILE_INVALID", `${file}: ${message}`, { reason, file, ...extra });
}

/**
 * Parses the header at the start of `head` (at least the preamble and the header itself; data may
 * follow). `expect` is the dtype the caller needs. Throws DATA_FILE_INVALID naming `file`.
 */
export function parseNpyHeader(head: Uint8Array, file: string, expect: NpyDtype): NpyHeader {
  if (head.length < 10 || MAGIC.some((b, i) => head[i] !== b))
    throw fault("magic", file, "not a .npy file (bad magic)");
  const major = head[6] as number;
  if (major < 1 || major > 3 || head[7] !== 0)
    throw fault("version", file, `unsupported .npy version ${major}.${head[7]}`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (head.length < 8 + lenBytes) throw fault("truncated", file, "file ends inside the .npy preamble");
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  // numpy's own reader caps headers (max_header_size 10,000); a 1-D header is ~128 bytes.
  if (headerLen > MAX_HEADER_BYTES) throw fault("header", file, `header of ${headerLen} bytes is too long`);
  const dataOffset = 8 + lenBytes + headerLen;
  if (head.length < dataOffset) throw fault("truncated", file, "file ends inside the .npy header");
  // v1/v2 headers are latin-1 (ASCII in practice); v3 is UTF-8.
  const raw = head.subarray(8 + lenBytes, dataOffset);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(raw);
  const dict = /^\{(.*)\}\s*$/s.exec(text.trimEnd());
  if (!dict || !text.endsWith("\n")) throw fault("header", file, "header is not a dict literal ending in a newline");
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined)
    throw fault("header", file, "header lacks descr, fortran_order or shape");
  if (descr !== expect)
    throw fault("dtype", file, `dtype ${descr}, expected ${expect}`, { dtype: descr, expected: expect });
  if (fortran !== "False") throw fault("fortran_order", file, "fortran_order must be False");
  const dims = shape
    .split(",")
    .map((d) => d.trim())
    .filter((d) => d !== "");
  if (dims.length !== 1 || !/^\d+$/.test(dims[0] as string))
    throw fault("shape", file, `shape (${shape}) is not 1-D`, { shape });
  const length = Number(dims[0]);
  if (!Number.isSafeInteger(length)) throw fault("shape", file, `shape (${shape}) is too large`, { shape });
  return { dtype: descr as NpyDtype, length, dataOffset };
}

/** Checks a file's size against its header: exactly length × item size bytes of data. */
export function checkNpySize(header: NpyHeader, fileSize: number, file: string): void {
  const want = header.dataOffset + header.length * ITEM_SIZE[header.dtype];
  if (fileSize < want)
    throw fault("truncated", file, `truncated: ${fileSize} bytes, the header needs ${want}`, {
      bytes: fileSize,
      expected: want,
    });
  if (fileSize > want)
    throw fault("trailing", file, `${fileSize - want} bytes after the array's data`, {
      bytes: fileSize,
      expected: want,
    });
}

/** Reads a whole `<u4` `.npy` file's bytes as uint32 values. */
export function readNpyU32(bytes: Uint8Array, file: string): Uint32Array {
  const header = parseNpyHeader(bytes, file, "<u4");
  checkNpySize(header, bytes.length, file);
  const out = new Uint32Array(header.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, header.length * 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/** Reads a whole `<u8` `.npy` file's bytes as uint64 values. */
export function readNpyU64(bytes: Uint8Array, file: string): BigUint64Array {
  const header = parseNpyHeader(bytes, file, "<u8");
  checkNpySize(header, bytes.length, file);
  const out = new BigUint64Array(header.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, header.length * 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getBigUint64(i * 8, true);
  return out;
}

/** The v1.0 header numpy.save writes for a 1-D C-order array of `length` items. */
export function npyHeader(dtype: NpyDtype, length: number): Uint8Array {
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${length},), }`;
  dict += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(length).length));
  const padLen = ARRAY_ALIGN - ((MAGIC.length + 2 + 2 + dict.length + 1) % ARRAY_ALIGN);
  const text = `${dict}${" ".repeat(padLen)}\n`;
  const out = new Uint8Array(10 + text.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/** A `<u4` `.npy` file holding `values`, as numpy.save writes it. */
export function writeNpyU32(values: Uint32Array | readonly number[]): Uint8Array {
  const head = npyHeader("<u4", values.length);
  const out = new Uint8Array(head.length + values.length * 4);
  out.set(head, 0);
  const view = new DataView(out.buffer, head.length);
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, values[i] as number, true);
  return out;
}

/** A `<u8` `.npy` file holding `values`, as numpy.save writes it. */
export function writeNpyU64(values: BigUint64Array | readonly bigint[]): Uint8Array {
  const head = npyHeader("<u8", values.length);
  const out = new Uint8Array(head.length + values.length * 8);
  out.set(head, 0);
  const view = new DataView(out.buffer, head.length);
  for (let i = 0; i < values.length; i++) view.setBigUint64(i * 8, values[i] as bigint, true);
  return out;
}

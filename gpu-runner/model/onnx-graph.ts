/**
 * A small ONNX graph builder (opset 17, IR 8): values with static shapes, nodes with unique
 * output names, constants as initializers and trainable parameters as graph *inputs*
 * (onnxruntime silently ignores feeds for initializers: docs/MODEL.md §3). A graph computes in one
 * float type: float32, or float64 for finite-difference checks of its gradients.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
type Attribute = onnxProto.onnx.IAttributeProto;

export const OPSET = 17;
const IR_VERSION = 8;

export type FloatType = "float32" | "float64";
/** bfloat16 and float16 occur only as stored weights (initializers), Cast to the graph's float type. */
export type DType = FloatType | "int64" | "int32" | "bool" | "bfloat16" | "float16";
const ONNX_TYPE: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
  bfloat16: onnx.TensorProto.DataType.BFLOAT16,
  float16: onnx.TensorProto.DataType.FLOAT16,
};

/** The ONNX TensorProto.DataType number of a dtype (the `to` attribute of Cast). */
export function onnxDataType(dtype: DType): number {
  return ONNX_TYPE[dtype];
}

/** A value of the graph: its name, static shape and element type. */
export interface Value {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export type AttributeValue = number | readonly number[] | string | { readonly float: number };

function attribute(name: string, v: AttributeValue): Attribute {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === "string") return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === "number") return { name, type: A.INT, i: v };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v as number[] };
  return { name, type: A.FLOAT, f: (v as { float: number }).float };
}

/** A dimension whose length each run chooses (a graph input only; e.g. a sparse delta's pair count). */
export const DYNAMIC = -1;

function valueInfo(v: Value): onnxProto.onnx.IValueInfoProto {
  const dim = v.shape.map((d, i) => (d === DYNAMIC ? { dimParam: `${v.name}.${i}` } : { dimValue: d }));
  return { name: v.name, type: { tensorType: { elemType: ONNX_TYPE[v.dtype], shape: { dim } } } };
}

export class GraphBuilder {
  /** The float type of every float value of the graph. */
  readonly float: FloatType;
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #inputs: Value[] = [];
  readonly #outputs: Value[] = [];
  readonly #initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly #names = new Set<string>();
  #counter = 0;

  constructor(float: FloatType = "float32") {
    this.float = float;
  }

  /** A fresh value name with a readable stem. */
  fresh(stem: string): string {
    let name = `${stem}_${this.#counter++}`;
    while (this.#names.has(name)) name = `${stem}_${this.#counter++}`;
    this.#names.add(name);
    return name;
  }

  /** Declares a graph input (data or a trainable parameter); floats by default. */
  input(name: string, shape: readonly number[], dtype: DType = this.float): Value {
    if (this.#names.has(name)) throw new Error(`duplicate graph name ${name}`);
    this.#names.add(name);
    const v = { name, shape, dtype };
    this.#inputs.push(v);
    return v;
  }

  /**
   * An initializer whose bytes stay outside the ModelProto: `length` bytes at `offset` of the file
   * `location` (relative to the model file's folder). The model must then be opened from a file
   * path, and onnxruntime reads the bytes itself, so large weights never pass through JS memory
   * and the protobuf stays far below its 2 GB limit.
   */
  external(
    name: string,
    shape: readonly number[],
    dtype: DType,
    data: { readonly location: string; readonly offset: number; readonly length: number },
  ): Value {
    if (this.#names.has(name)) throw new Error(`duplicate graph name ${name}`);
    this.#names.add(name);
    this.#initializers.push({
      name,
      dims: [...shape],
      dataType: ONNX_TYPE[dtype],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: "location", value: data.location },
        { key: "offset", value: String(data.offset) },
        { key: "length", value: String(data.length) },
      ],
    });
    return { name, shape, dtype };
  }

  /** A float32, float64 or int64 constant (an initializer). */
  constant(stem: string, data: Float32Array | Float64Array | BigInt64Array, shape: readonly number[]): Value {
    const name = this.fresh(stem);
    const dtype: DType = data instanceof Float32Array ? "float32" : data instanceof Float64Array ? "float64" : "int64";
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.#initializers.push({ name, dims: [...shape], dataType: ONNX_TYPE[dtype], rawData: bytes });
    return { name, shape, dtype };
  }

  /** A constant of the graph's float type. */
  floats(stem: string, values: ArrayLike<number>, shape: readonly number[]): Value {
    return this.constant(stem, this.float === "float64" ? Float64Array.from(values) : Float32Array.from(values), shape);
  }

  /** A scalar constant of the graph's float type. */
  scalar(value: number): Value {
    return this.floats("c", [value], []);
  }

  /** An int64 vector constant (shapes, axes). */
  ints(values: readonly number[]): Value {
    return this.constant("i", BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  /** Adds a node with one output of the given shape (of its first input's dtype unless given). */
  node(
    op: string,
    inputs: readonly Value[],
    shape: readonly number[],
    attrs: Record<string, AttributeValue> = {},
    dtype: DType = inputs[0]?.dtype ?? this.float,
  ): Value {
    return this.nodeOutputs(op, inputs, [{ shape, dtype }], attrs)[0] as Value;
  }

  /** Adds a node with several outputs; the first is named like the node. */
  nodeOutputs(
    op: string,
    inputs: readonly Value[],
    outputs: readonly { readonly shape: readonly number[]; readonly dtype: DType }[],
    attrs: Record<string, AttributeValue> = {},
  ): Value[] {
    const name = this.fresh(op.toLowerCase());
    const values = outputs.map(({ shape, dtype }, i) => ({ name: i === 0 ? name : this.fresh(name), shape, dtype }));
    this.#nodes.push({
      opType: op,
      name,
      input: inputs.map((v) => v.name),
      output: values.map((v) => v.name),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return values;
  }

  /** Exposes a value as a named graph output (through Identity: output names stay stable). */
  output(name: string, v: Value): void {
    if (this.#names.has(name)) throw new Error(`duplicate graph name ${name}`);
    this.#names.add(name);
    this.#nodes.push({ opType: "Identity", name: `out_${name}`, input: [v.name], output: [name] });
    this.#outputs.push({ name, shape: v.shape, dtype: v.dtype });
  }

  /** The serialized ModelProto. */
  encode(graphName: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: "templar-edge",
      opsetImport: [{ domain: "", version: OPSET }],
      graph: {
        name: graphName,
        node: this.#nodes,
        input: this.#inputs.map(valueInfo),
        output: this.#outputs.map(valueInfo),
        initializer: this.#initializers,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/**
 * A minimal ONNX model writer: just enough protobuf to describe a graph of standard operators
 * (MatMul, Softmax, LayerNormalization, Add) over float tensors, so the onnxruntime-web harness
 * has a model to load. Fields follow `onnx.proto` (ModelProto, GraphProto, NodeProto,
 * AttributeProto, ValueInfoProto, TensorProto).
 *
 * @module
 */

/** ONNX element types used here (`TensorProto.DataType`). */
export const OnnxType = { float: 1, float16: 10 } as const;

/** An ONNX element type. */
export type OnnxElemType = (typeof OnnxType)[keyof typeof OnnxType];

/** A graph input or output: a name, an element type and a static shape. */
export interface OnnxValue {
  /** The value's name. */
  readonly name: string;
  /** The element type. */
  readonly type: OnnxElemType;
  /** The static shape. */
  readonly shape: readonly number[];
}

/** A node attribute: an integer, a float, or a list of integers. */
export type OnnxAttr = { readonly i: number } | { readonly f: number } | {
  readonly ints: readonly number[];
};

/** A node of the graph. */
export interface OnnxNode {
  /** The operator, e.g. `"MatMul"`. */
  readonly op: string;
  /** Input value names. */
  readonly inputs: readonly string[];
  /** Output value names. */
  readonly outputs: readonly string[];
  /** Attributes by name. */
  readonly attrs?: Readonly<Record<string, OnnxAttr>>;
}

/** A constant tensor of the graph (float32 data only). */
export interface OnnxInitializer {
  /** The value's name. */
  readonly name: string;
  /** The shape. */
  readonly shape: readonly number[];
  /** The float32 data, row-major. */
  readonly data: Float32Array;
}

/** A whole model: one graph under one opset of the default domain. */
export interface OnnxGraph {
  /** The graph's name. */
  readonly name: string;
  /** The nodes, in topological order. */
  readonly nodes: readonly OnnxNode[];
  /** Graph inputs. */
  readonly inputs: readonly OnnxValue[];
  /** Graph outputs. */
  readonly outputs: readonly OnnxValue[];
  /** Constant tensors. */
  readonly initializers?: readonly OnnxInitializer[];
  /** The opset version of the default domain (default 17). */
  readonly opset?: number;
}

/** A growable byte buffer with the protobuf wire primitives. */
class Writer {
  #bytes: number[] = [];

  /** The bytes written. */
  finish(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  varint(v: number): void {
    if (!Number.isInteger(v) || v < 0) {
      // Negative int64 values are written as 10-byte two's complement.
      let b = BigInt.asUintN(64, BigInt(v));
      while (b >= 0x80n) {
        this.#bytes.push(Number(b & 0x7fn) | 0x80);
        b >>= 7n;
      }
      this.#bytes.push(Number(b));
      return;
    }
    while (v >= 0x80) {
      this.#bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.#bytes.push(v);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    for (const x of b) this.#bytes.push(x);
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.bytes(field, w.finish());
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.#bytes.push(x);
  }
}

function valueInfo(w: Writer, v: OnnxValue): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.type);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => dim.int(1, d));
      });
    }));
}

function attribute(w: Writer, name: string, a: OnnxAttr): void {
  w.string(1, name);
  if ("f" in a) {
    w.float(2, a.f);
    w.int(20, 1); // AttributeType.FLOAT
  } else if ("i" in a) {
    w.int(3, a.i);
    w.int(20, 2); // AttributeType.INT
  } else {
    for (const v of a.ints) w.int(8, v);
    w.int(20, 7); // AttributeType.INTS
  }
}

/**
 * Serializes a graph as an ONNX `ModelProto` (IR version 8).
 *
 * @example
 * ```ts
 * const bytes = encodeOnnxModel({
 *   name: "mm",
 *   nodes: [{ op: "MatMul", inputs: ["A", "B"], outputs: ["C"] }],
 *   inputs: [{ name: "A", type: OnnxType.float, shape: [4, 8] }, { name: "B", type: OnnxType.float, shape: [8, 2] }],
 *   outputs: [{ name: "C", type: OnnxType.float, shape: [4, 2] }],
 * });
 * ```
 */
export function encodeOnnxModel(g: OnnxGraph): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, "tvmts-bench"); // producer_name
  w.message(7, (graph) => {
    g.nodes.forEach((n, i) =>
      graph.message(1, (node) => {
        for (const x of n.inputs) node.string(1, x);
        for (const x of n.outputs) node.string(2, x);
        node.string(3, `${n.op}_${i}`);
        node.string(4, n.op);
        for (const [k, a] of Object.entries(n.attrs ?? {})) {
          node.message(5, (attr) => attribute(attr, k, a));
        }
      })
    );
    graph.string(2, g.name);
    for (const t of g.initializers ?? []) {
      graph.message(5, (tensor) => {
        for (const d of t.shape) tensor.int(1, d);
        tensor.int(2, OnnxType.float);
        tensor.string(8, t.name);
        tensor.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      });
    }
    for (const v of g.inputs) graph.message(11, (vi) => valueInfo(vi, v));
    for (const v of g.outputs) graph.message(12, (vi) => valueInfo(vi, v));
  });
  w.message(8, (opset) => {
    opset.string(1, "");
    opset.int(2, g.opset ?? 17);
  });
  return w.finish();
}

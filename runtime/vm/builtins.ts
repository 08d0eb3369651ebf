/**
 * The VM's builtins (`vm.builtin.*`): argument checks and shape matching (the code
 * `VMShapeLower` emits), shape construction from the shape heap, allocation of storage and
 * tensors, tuples, and control-flow helpers. Each takes the calling frame's context and the
 * argument values.
 *
 * @module
 */

import { dtypeBytes, isScalarDType, type ScalarDType } from "../../ir/dtype.ts";
import { MakeKind, MatchKind } from "../../transform/relax/vm_shape_lower.ts";
import type { Device, DeviceStorage } from "../device.ts";
import { evalKernelExpr, type KernelExpr } from "../kernel_abi.ts";
import { formatDims, Tensor } from "../tensor.ts";
import { storageView } from "./_storage_view.ts";
import { describeValue, Shape, Storage, type VMValue } from "./value.ts";

/** What a builtin knows about its caller. */
export interface BuiltinContext {
  /** The device the VM runs on. */
  readonly device: Device;
  /**
   * Allocates device storage for the calling frame; the VM releases it when the frame returns
   * (unless it is returned) and may hand the same memory to the same instruction next time.
   */
  alloc(dtype: ScalarDType, size: number): DeviceStorage;
  /** Releases storage this frame allocated before the frame returns. */
  release(storage: DeviceStorage): void;
  /** Compiled shape programs (of `eval_shape_expr`), by their text. */
  readonly programs: Map<string, KernelExpr>;
}

/** A builtin: checks its arguments and returns its result (`null` for none). */
export type Builtin = (ctx: BuiltinContext, args: readonly VMValue[]) => VMValue | Promise<VMValue>;

function argError(name: string, i: number, what: string, v: unknown): Error {
  return new Error(`vm.builtin.${name}: argument ${i} must be ${what}, got ${describeValue(v)}`);
}

function num(name: string, args: readonly VMValue[], i: number): number {
  const v = args[i];
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return +v;
  throw argError(name, i, "a number", v);
}

function str(name: string, args: readonly VMValue[], i: number): string {
  const v = args[i];
  if (typeof v !== "string") throw argError(name, i, "a string", v);
  return v;
}

function heapArg(name: string, args: readonly VMValue[], i: number): Float64Array {
  const v = args[i];
  if (!(v instanceof Float64Array)) throw argError(name, i, "the shape heap", v);
  return v;
}

function shapeArg(name: string, args: readonly VMValue[], i: number): readonly number[] {
  const v = args[i];
  if (!(v instanceof Shape)) throw argError(name, i, "a shape", v);
  return v.dims;
}

function dtypeArg(name: string, args: readonly VMValue[], i: number): ScalarDType {
  const d = str(name, args, i);
  if (!isScalarDType(d)) throw new Error(`vm.builtin.${name}: unknown dtype "${d}"`);
  return d;
}

/** The dimensions of a tensor or shape value, for matching. */
function dimsOf(v: VMValue): readonly number[] {
  if (v instanceof Tensor) return v.shape;
  if (v instanceof Shape) return v.dims;
  throw new Error(`vm.builtin.match_shape: expected a tensor or a shape, got ${describeValue(v)}`);
}

function what(v: VMValue): string {
  return v instanceof Tensor ? `a tensor of shape ${formatDims(v.shape)}` : describeValue(v);
}

function checkTensorInfo(ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const [x] = args;
  const ndim = num("check_tensor_info", args, 1);
  const dtype = str("check_tensor_info", args, 2);
  const err = str("check_tensor_info", args, 3);
  if (!(x instanceof Tensor)) throw new Error(`${err}, got ${describeValue(x)}`);
  if (x.disposed) throw new Error(`${err}, got a disposed tensor`);
  if (x.device !== ctx.device) {
    const where = x.device.name === ctx.device.name
      ? `another ${x.device.name} device than the VM's`
      : `${x.device.name}, but the VM runs on ${ctx.device.name}`;
    throw new Error(`${err}, got a tensor on ${where}`);
  }
  if (ndim >= 0 && x.rank !== ndim) throw new Error(`${err}, got ${what(x)}`);
  if (dtype !== "void" && x.dtype !== dtype) {
    throw new Error(`${err}, got a tensor of dtype ${x.dtype}`);
  }
  return null;
}

function checkShapeInfo(_ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const [x] = args;
  const ndim = num("check_shape_info", args, 1);
  const err = str("check_shape_info", args, 2);
  if (!(x instanceof Shape) || (ndim >= 0 && x.dims.length !== ndim)) {
    throw new Error(`${err}, got ${describeValue(x)}`);
  }
  return null;
}

function checkPrimValueInfo(_ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const [x] = args;
  const dtype = str("check_prim_value_info", args, 1);
  const err = str("check_prim_value_info", args, 2);
  const isNum = typeof x === "number" || typeof x === "boolean";
  const v = Number(x);
  const intLike = dtype.startsWith("int") || dtype.startsWith("uint");
  const ok = isNum && (dtype === "bool" ? v === 0 || v === 1 : !intLike || Number.isInteger(v));
  if (!ok) throw new Error(`${err}, got ${describeValue(x)}`);
  return null;
}

function checkTupleInfo(_ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const [x] = args;
  const n = num("check_tuple_info", args, 1);
  const err = str("check_tuple_info", args, 2);
  if (!Array.isArray(x) || x.length !== n) throw new Error(`${err}, got ${describeValue(x)}`);
  return null;
}

/** Matches values against `(kind, value)` pairs; `err` gives the message's start. */
function matchDims(
  name: string,
  x: VMValue,
  dims: readonly number[],
  heap: Float64Array,
  pairs: readonly VMValue[],
  err: string,
): void {
  for (let i = 0; i < dims.length; i++) {
    const kind = num(name, pairs, 2 * i), v = num(name, pairs, 2 * i + 1);
    const d = dims[i]!;
    switch (kind) {
      case MatchKind.assertEqualToImm:
        if (d !== v) throw new Error(`${err}, got ${what(x)}`);
        break;
      case MatchKind.storeToHeap:
        heap[v] = d;
        break;
      case MatchKind.assertEqualToLoad:
        if (d !== heap[v]) {
          const where = dims.length === 1 && !(x instanceof Tensor) && !(x instanceof Shape)
            ? "it"
            : `dimension ${i}`;
          throw new Error(`${err}, got ${what(x)} (${where} must be ${heap[v]})`);
        }
        break;
      case MatchKind.noOp:
        break;
      default:
        throw new Error(`vm.builtin.${name}: unknown match kind ${kind}`);
    }
  }
}

function matchShape(_ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const x = args[0]!;
  const heap = heapArg("match_shape", args, 1);
  const ndim = num("match_shape", args, 2);
  const err = str("match_shape", args, 3 + 2 * ndim);
  const dims = dimsOf(x);
  if (dims.length !== ndim) throw new Error(`${err}, got ${what(x)}`);
  matchDims("match_shape", x, dims, heap, args.slice(3, 3 + 2 * ndim), err);
  return null;
}

function matchPrimValue(_ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const x = num("match_prim_value", args, 0);
  const heap = heapArg("match_prim_value", args, 1);
  const err = str("match_prim_value", args, 4);
  matchDims("match_prim_value", x, [x], heap, args.slice(2, 4), err);
  return null;
}

function loadValue(name: string, heap: Float64Array, kind: number, v: number): number {
  if (kind === MakeKind.useImm) return v;
  if (kind === MakeKind.loadFromHeap) return heap[v]!;
  throw new Error(`vm.builtin.${name}: unknown make kind ${kind}`);
}

function makeShape(_ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const heap = heapArg("make_shape", args, 0);
  const n = num("make_shape", args, 1);
  const dims: number[] = [];
  for (let i = 0; i < n; i++) {
    dims.push(
      loadValue(
        "make_shape",
        heap,
        num("make_shape", args, 2 + 2 * i),
        num("make_shape", args, 3 + 2 * i),
      ),
    );
  }
  return new Shape(dims);
}

function makePrimValue(_ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const heap = heapArg("make_prim_value", args, 0);
  return loadValue(
    "make_prim_value",
    heap,
    num("make_prim_value", args, 1),
    num("make_prim_value", args, 2),
  );
}

function evalShapeExpr(ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const heap = heapArg("eval_shape_expr", args, 0);
  const dst = num("eval_shape_expr", args, 1);
  const text = str("eval_shape_expr", args, 2);
  let prog = ctx.programs.get(text);
  if (prog === undefined) {
    prog = JSON.parse(text) as KernelExpr;
    ctx.programs.set(text, prog);
  }
  const values: Record<string, number> = {};
  heap.forEach((v, i) => values[`s${i}`] = v);
  heap[dst] = evalKernelExpr(prog, values);
  return null;
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function allocTensor(ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const dims = shapeArg("alloc_tensor", args, 0);
  const dtype = dtypeArg("alloc_tensor", args, 1);
  const s = ctx.alloc(dtype, elementCount(dims));
  return new Tensor(s, dims);
}

function allocStorage(ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const [bytes] = shapeArg("alloc_storage", args, 0);
  const dtype = dtypeArg("alloc_storage", args, 3);
  const s = ctx.alloc(dtype, Math.ceil((bytes ?? 0) / dtypeBytes(dtype)));
  return new Storage(s);
}

function allocTensorFromStorage(ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const st = args[0];
  if (!(st instanceof Storage)) throw argError("alloc_tensor_from_storage", 0, "a storage", st);
  const offset = num("alloc_tensor_from_storage", args, 1);
  const dims = shapeArg("alloc_tensor_from_storage", args, 2);
  const dtype = dtypeArg("alloc_tensor_from_storage", args, 3);
  const s = st.storage;
  if (offset !== 0) {
    throw new Error(
      `vm.builtin.alloc_tensor_from_storage: offset ${offset} is not supported (only 0)`,
    );
  }
  if (dtype !== s.dtype) {
    throw new Error(
      `vm.builtin.alloc_tensor_from_storage: a ${dtype} tensor cannot live in ${s.dtype} storage`,
    );
  }
  const n = elementCount(dims);
  if (n > s.size) {
    throw new Error(
      `Cannot place a tensor of shape ${
        formatDims(dims)
      } (${n} elements) in storage of ${s.size} elements: a symbolic dimension exceeds its upper bound (tir_var_upper_bound)`,
    );
  }
  const view = storageView(s, n);
  if (view) return new Tensor(view, dims);
  return new Tensor(ctx.alloc(dtype, n), dims);
}

function killStorage(ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const st = args[0];
  if (!(st instanceof Storage)) throw argError("kill_storage", 0, "a storage", st);
  ctx.release(st.storage);
  return null;
}

function tupleGetItem(_ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const t = args[0];
  const i = num("tuple_getitem", args, 1);
  if (!Array.isArray(t)) throw argError("tuple_getitem", 0, "a tuple", t);
  if (i < 0 || i >= t.length) {
    throw new Error(
      `vm.builtin.tuple_getitem: index ${i} is out of range for a tuple of ${t.length} fields`,
    );
  }
  return (t as readonly VMValue[])[i]!;
}

async function readIfCond(_ctx: BuiltinContext, args: readonly VMValue[]): Promise<VMValue> {
  const c = args[0];
  if (typeof c === "number" || typeof c === "boolean") return !!c;
  if (c instanceof Tensor) {
    if (c.size !== 1) {
      throw new Error(
        `If condition must be a scalar, got a tensor of shape ${formatDims(c.shape)}`,
      );
    }
    const data = await c.toArray();
    return Number(data[0]) !== 0;
  }
  throw new Error(`If condition must be a boolean or a scalar tensor, got ${describeValue(c)}`);
}

function shapeOf(_ctx: BuiltinContext, args: readonly VMValue[]): VMValue {
  const t = args[0];
  if (!(t instanceof Tensor)) throw argError("shape_of", 0, "a tensor", t);
  return new Shape(t.shape);
}

/** The builtins by full name (`vm.builtin.alloc_tensor`, ...). */
export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>(
  Object.entries(
    {
      alloc_shape_heap: (_ctx, args) => new Float64Array(num("alloc_shape_heap", args, 0)),
      check_tensor_info: checkTensorInfo,
      check_shape_info: checkShapeInfo,
      check_prim_value_info: checkPrimValueInfo,
      check_tuple_info: checkTupleInfo,
      match_shape: matchShape,
      match_prim_value: matchPrimValue,
      make_shape: makeShape,
      make_prim_value: makePrimValue,
      eval_shape_expr: evalShapeExpr,
      alloc_tensor: allocTensor,
      alloc_storage: allocStorage,
      alloc_tensor_from_storage: allocTensorFromStorage,
      kill_storage: killStorage,
      null_value: () => null,
      make_tuple: (_ctx, args) => [...args],
      tuple_getitem: tupleGetItem,
      copy: (_ctx, args) => args[0] ?? null,
      read_if_cond: readIfCond,
      shape_of: shapeOf,
    } satisfies Record<string, Builtin>,
  ).map(([k, v]) => [`vm.builtin.${k}`, v]),
);

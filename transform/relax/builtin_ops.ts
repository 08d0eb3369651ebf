/**
 * The low-level Relax operators that the build pipeline lowers to, as TVM spells them:
 * `R.builtin.alloc_tensor`, `R.memory.alloc_storage`, `R.memory.alloc_tensor`,
 * `R.memory.kill_storage`, `R.memory.kill_tensor`, `R.vm.kill_object` and `R.null_value`, plus
 * constructors of `R.call_packed` calls of the VM's builtins (`vm.builtin.*`).
 *
 * The operators are registered (once) when this module is imported, so their calls carry
 * inferred StructInfo like any other operator call.
 *
 * @module
 */

import type { DType } from "../../ir/dtype.ts";
import { intImm } from "../../ir/expr.ts";
import {
  dataTypeImm,
  type Expr,
  primValue,
  type RCall,
  shapeExpr,
  stringImmR,
} from "../../ir/relax/expr.ts";
import { callPacked } from "../../ir/relax/op/call.ts";
import {
  fmtSInfo,
  lookupOp,
  makeOpCall,
  type OpDef,
  registerOp,
} from "../../ir/relax/op/registry.ts";
import {
  objectSInfo,
  type StructInfo,
  tensorSInfo,
  tupleSInfo,
} from "../../ir/relax/struct_info.ts";

/** The StructInfo of a call made for its effect only: the empty tuple. */
export const VOID_SINFO: StructInfo = tupleSInfo([]);

function define(def: OpDef): void {
  if (!lookupOp(def.name)) registerOp(def);
}

function argOf(op: string, args: readonly Expr[], i: number, name: string): Expr {
  const a = args[i];
  if (!a) throw new Error(`${op}: missing argument "${name}"`);
  return a;
}

/** The tensor StructInfo described by a `(shape, dtype)` argument pair. */
function tensorOf(op: string, shape: Expr, dtype: Expr): StructInfo {
  if (shape.structInfo.kind !== "ShapeStructInfo") {
    throw new Error(`${op}: the shape must be a shape, got ${fmtSInfo(shape.structInfo)}`);
  }
  if (dtype.kind !== "relax.DataTypeImm") throw new Error(`${op}: the dtype must be R.dtype(...)`);
  const s = shape.structInfo;
  return s.values
    ? tensorSInfo(s.values, dtype.value)
    : tensorSInfo(undefined, dtype.value, s.ndim);
}

define({
  name: "relax.builtin.alloc_tensor",
  args: ["shape", "dtype", "runtime_device_index", "storage_scope"],
  optionalArgs: 1,
  attrs: {},
  pattern: "opaque",
  infer: (args) => {
    const op = "builtin.alloc_tensor";
    return tensorOf(op, argOf(op, args, 0, "shape"), argOf(op, args, 1, "dtype"));
  },
});

define({
  name: "relax.memory.alloc_storage",
  args: ["size", "virtual_device_index", "storage_scope", "dtype"],
  optionalArgs: 0,
  attrs: {},
  pattern: "opaque",
  impure: true,
  infer: () => objectSInfo(),
});

define({
  name: "relax.memory.alloc_tensor",
  args: ["storage", "offset", "shape", "dtype"],
  optionalArgs: 0,
  attrs: {},
  pattern: "opaque",
  impure: true,
  infer: (args) => {
    const op = "memory.alloc_tensor";
    return tensorOf(op, argOf(op, args, 2, "shape"), argOf(op, args, 3, "dtype"));
  },
});

for (
  const name of ["relax.memory.kill_storage", "relax.memory.kill_tensor", "relax.vm.kill_object"]
) {
  define({
    name,
    args: ["value"],
    optionalArgs: 0,
    attrs: {},
    pattern: "opaque",
    impure: true,
    infer: () => VOID_SINFO,
  });
}

define({
  name: "relax.null_value",
  args: [],
  optionalArgs: 0,
  attrs: {},
  pattern: "opaque",
  infer: () => objectSInfo(),
});

/** `R.prim_value(T.int64(v))`: the integer immediate of a builtin call. */
export function int64Value(v: number): Expr {
  return primValue(intImm(v, "int64"));
}

/** `R.builtin.alloc_tensor(shape, R.dtype(dtype), R.prim_value(deviceIndex))` */
export function allocTensor(shape: Expr, dtype: DType, deviceIndex = 0): RCall {
  return makeOpCall("relax.builtin.alloc_tensor", [
    shape,
    dataTypeImm(dtype),
    int64Value(deviceIndex),
  ]);
}

/**
 * `R.memory.alloc_storage(R.shape([bytes]), R.prim_value(deviceIndex), R.str(scope),
 * R.dtype(dtype))`: `bytes` bytes of storage meant for tensors of `dtype`.
 */
export function allocStorage(
  bytes: number,
  dtype: DType,
  options: { readonly deviceIndex?: number; readonly scope?: string } = {},
): RCall {
  return makeOpCall("relax.memory.alloc_storage", [
    shapeExpr([bytes]),
    int64Value(options.deviceIndex ?? 0),
    stringImmR(options.scope ?? "global"),
    dataTypeImm(dtype),
  ]);
}

/** `R.memory.alloc_tensor(storage, R.prim_value(offset), shape, R.dtype(dtype))` */
export function allocTensorFromStorage(
  storage: Expr,
  shape: Expr,
  dtype: DType,
  offset = 0,
): RCall {
  return makeOpCall("relax.memory.alloc_tensor", [
    storage,
    int64Value(offset),
    shape,
    dataTypeImm(dtype),
  ]);
}

/** `R.memory.kill_storage(storage)` */
export function killStorage(storage: Expr): RCall {
  return makeOpCall("relax.memory.kill_storage", [storage]);
}

/** `R.memory.kill_tensor(tensor)` */
export function killTensor(tensor: Expr): RCall {
  return makeOpCall("relax.memory.kill_tensor", [tensor]);
}

/** `R.vm.kill_object(value)` */
export function killObject(value: Expr): RCall {
  return makeOpCall("relax.vm.kill_object", [value]);
}

/** `R.null_value()` */
export function nullValue(): RCall {
  return makeOpCall("relax.null_value", []);
}

/**
 * `R.call_packed("vm.builtin.<name>", args...)`: a call of a VM builtin. Numbers become
 * `R.prim_value(T.int64(n))`, strings `R.str(s)`.
 */
export function callBuiltin(
  name: string,
  args: readonly (Expr | number | string)[],
  sinfo: StructInfo = VOID_SINFO,
): RCall {
  const xs = args.map((a) =>
    typeof a === "number" ? int64Value(a) : typeof a === "string" ? stringImmR(a) : a
  );
  return callPacked(`vm.builtin.${name}`, xs, sinfo);
}

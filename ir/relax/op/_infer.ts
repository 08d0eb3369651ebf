/**
 * Helpers shared by operator StructInfo inference: argument checks, broadcasting, axes.
 *
 * @module
 */

import type { DType } from "../../dtype.ts";
import { intImm, isPrimExpr, type PrimExpr, sub } from "../../expr.ts";
import type { AttrValue } from "../../tir/stmt.ts";
import type { Expr } from "../expr.ts";
import { tensorSInfo, type TensorStructInfo } from "../struct_info.ts";
import { fmtDim, fmtShape, fmtSInfo, shortName } from "./registry.ts";

/** The TensorStructInfo of argument `index` of `op`; throws naming the argument otherwise. */
export function tensorArg(
  op: string,
  args: readonly Expr[],
  index: number,
  argName: string,
): TensorStructInfo {
  const a = args[index];
  if (!a) throw new Error(`${shortName(op)}: missing argument "${argName}"`);
  const s = a.structInfo;
  if (s.kind !== "TensorStructInfo") {
    throw new Error(`${shortName(op)}: argument "${argName}" must be a tensor, got ${fmtSInfo(s)}`);
  }
  return s;
}

/** The constant value of a dimension, if it is one. */
export function dimValue(d: PrimExpr): number | undefined {
  return d.kind === "IntImm" ? d.value : undefined;
}

/** Whether two dimensions are known to be equal (same variable or same constant). */
export function dimEqual(a: PrimExpr, b: PrimExpr): boolean {
  if (a === b) return true;
  const x = dimValue(a), y = dimValue(b);
  if (x !== undefined && y !== undefined) return x === y;
  return fmtDim(a) === fmtDim(b) && a.kind === b.kind && a.kind !== "Var";
}

/** Whether two dimensions are known to differ (distinct constants). */
export function dimDiffers(a: PrimExpr, b: PrimExpr): boolean {
  const x = dimValue(a), y = dimValue(b);
  return x !== undefined && y !== undefined && x !== y;
}

/** The common dtype of two tensors (unknown `"void"` adopts the other); throws if they differ. */
export function commonDType(op: string, a: TensorStructInfo, b: TensorStructInfo): DType {
  if (a.dtype === "void") return b.dtype;
  if (b.dtype === "void") return a.dtype;
  if (a.dtype !== b.dtype) {
    throw new Error(`${shortName(op)}: operand dtypes differ: ${a.dtype} and ${b.dtype}`);
  }
  return a.dtype;
}

/**
 * numpy broadcasting of two shapes. Returns `undefined` when a shape is unknown or two dims
 * cannot be related statically (the result then has only a known rank).
 */
export function broadcastShapes(
  op: string,
  a: readonly PrimExpr[],
  b: readonly PrimExpr[],
): PrimExpr[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: PrimExpr[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i], y = b[b.length - n + i];
    if (!x) out.push(y!);
    else if (!y) out.push(x);
    else if (dimValue(x) === 1) out.push(y);
    else if (dimValue(y) === 1) out.push(x);
    else if (dimEqual(x, y)) out.push(x);
    else if (dimDiffers(x, y)) {
      throw new Error(
        `${shortName(op)}: cannot broadcast ${fmtShape(a)} with ${fmtShape(b)}: ${
          x.kind === "IntImm" ? x.value : fmtDim(x)
        } != ${y.kind === "IntImm" ? y.value : fmtDim(y)}`,
      );
    } else return undefined;
  }
  return out;
}

/** The StructInfo of a broadcast of two tensors with dtype `dtype`. */
export function broadcastSInfo(
  op: string,
  a: TensorStructInfo,
  b: TensorStructInfo,
  dtype: DType,
): TensorStructInfo {
  if (a.shape && b.shape) {
    const s = broadcastShapes(op, a.shape, b.shape);
    if (s) return tensorSInfo(s, dtype);
  }
  const nd = a.ndim < 0 || b.ndim < 0 ? -1 : Math.max(a.ndim, b.ndim);
  return tensorSInfo(undefined, dtype, nd);
}

/** Reads an integer attribute. */
export function intAttr(op: string, name: string, v: AttrValue | undefined): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (isPrimExpr(v) && v.kind === "IntImm") return v.value;
  throw new Error(`${shortName(op)}: attribute "${name}" must be an integer, got ${fmtAttr(v)}`);
}

/** Reads an optional list of integers (`undefined`/`null`-like empty means "none"). */
export function intListAttr(
  op: string,
  name: string,
  v: AttrValue | undefined,
): number[] | undefined {
  if (v === undefined || (typeof v === "string" && v === "")) return undefined;
  if (typeof v === "number") return [intAttr(op, name, v)];
  if (Array.isArray(v)) return v.map((x) => intAttr(op, name, x));
  throw new Error(
    `${shortName(op)}: attribute "${name}" must be a list of integers, got ${fmtAttr(v)}`,
  );
}

/** Formats an attribute value for messages. */
export function fmtAttr(v: AttrValue | undefined): string {
  if (v === undefined) return "nothing";
  if (isPrimExpr(v)) return fmtDim(v);
  return JSON.stringify(v);
}

/** Normalizes a possibly negative axis against `ndim`; throws when out of range. */
export function normAxis(op: string, axis: number, ndim: number): number {
  if (ndim < 0) return axis;
  const a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim) {
    throw new Error(`${shortName(op)}: axis ${axis} is out of range for a tensor of rank ${ndim}`);
  }
  return a;
}

/** An int64 constant dimension. */
export function dim(n: number): PrimExpr {
  return intImm(n, "int64");
}

/** `a - b` on dimensions. */
export function dimSub(a: PrimExpr, b: PrimExpr): PrimExpr {
  return sub(a, b);
}

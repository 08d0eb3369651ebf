/**
 * Helpers shared by the `relax.nn.*` operator files.
 *
 * @module
 */

import type { Attrs } from "../../tir/stmt.ts";
import type { Expr } from "../expr.ts";
import { type StructInfo, tensorSInfo, type TensorStructInfo } from "../struct_info.ts";
import { tensorArg } from "./_infer.ts";
import { type LegalizeFn, type OpPattern, registerOp } from "./registry.ts";

/** Registers `relax.nn.<name>`. */
export function regNN(
  name: string,
  args: readonly string[],
  attrs: Attrs,
  pattern: OpPattern,
  infer: (args: readonly Expr[], attrs: Attrs, op: string) => StructInfo,
  legalize: LegalizeFn,
  optionalArgs = 0,
): void {
  const full = `relax.nn.${name}`;
  registerOp({
    name: full,
    args,
    optionalArgs,
    attrs,
    pattern,
    infer: (a, at) => infer(a, at, full),
    legalize,
  });
}

/** The StructInfo of `x` with another dtype. */
export const keep = (x: TensorStructInfo, dtype = x.dtype): TensorStructInfo =>
  x.shape ? tensorSInfo(x.shape, dtype) : tensorSInfo(undefined, dtype, x.ndim);

/** A float tensor argument; throws naming it otherwise. */
export function floatArg(
  op: string,
  args: readonly Expr[],
  i: number,
  name: string,
): TensorStructInfo {
  const x = tensorArg(op, args, i, name);
  if (x.dtype !== "void" && !x.dtype.startsWith("float")) {
    throw new Error(`${op.slice(6)}: argument "${name}" must be a float tensor, got ${x.dtype}`);
  }
  return x;
}

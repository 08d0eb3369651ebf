/**
 * Relax struct info annotations: `R.Tensor((n, 4), dtype="float32")`, `R.Shape([...])`,
 * `R.Prim("int64")`, `R.Tuple(...)`, `R.Object`, `R.Callable(...)`.
 *
 * @module
 */

import type { DType } from "../../ir/dtype.ts";
import { intImm, type PrimExpr } from "../../ir/expr.ts";
import {
  funcSInfo,
  objectSInfo,
  primSInfo,
  shapeSInfo,
  type StructInfo,
  tensorSInfo,
  tupleSInfo,
} from "../../ir/relax/struct_info.ts";
import { describeExpr, dottedName, type ExprNode } from "./ast.ts";
import { bindArgs, expectBool, expectInt, type ParseContext } from "./context.ts";
import { SourceText, TVMScriptParseError } from "./errors.ts";
import { dtypeArg, type PrimEval } from "./prim_eval.ts";
import { parseExpressionSyntax } from "./syntax.ts";

/** What struct-info parsing needs from the Relax parser. */
export interface SInfoHost {
  readonly ctx: ParseContext;
  readonly ev: PrimEval;
  /**
   * The symbolic variable named by a string dimension (`"n"`); with `declare`, an undefined
   * name declares a new int64 variable in the function scope.
   */
  symbolicVar(name: string, declare: boolean, at: ExprNode): PrimExpr;
}

/**
 * Parses a struct info annotation. `declare` lets string dimensions declare symbolic variables
 * (function parameters and return types).
 */
export function parseSInfo(h: SInfoHost, e: ExprNode, declare = false): StructInfo {
  const ctx: ParseContext = h.ctx;
  return ctx.guard(e, () => parseSInfoInner(h, e, declare));
}

function parseSInfoInner(h: SInfoHost, e: ExprNode, declare: boolean): StructInfo {
  const ctx: ParseContext = h.ctx;
  if (e.kind === "Name" || e.kind === "Attribute") {
    switch (dottedName(e)) {
      case "R.Tensor":
        return tensorSInfo(undefined, "void");
      case "R.Object":
        return objectSInfo();
      case "R.Shape":
        return shapeSInfo(undefined);
      case "R.Tuple":
        return tupleSInfo([]);
      case "R.Callable":
        return funcSInfo(undefined, objectSInfo(), false);
      default:
        return ctx.fail(
          `Expected a struct info annotation such as R.Tensor(...), got ${describeExpr(e)}`,
          e,
        );
    }
  }
  if (e.kind !== "Call") {
    return ctx.fail(
      `Expected a struct info annotation such as R.Tensor(...), got ${describeExpr(e)}`,
      e,
    );
  }
  const name = dottedName(e.func);
  switch (name) {
    case "R.Tensor": {
      const a = bindArgs(ctx, e, ["shape", "dtype", "vdevice", "ndim"], 0);
      let shapeNode = a.byName.get("shape");
      let dtypeNode = a.byName.get("dtype");
      if (shapeNode?.kind === "Constant" && typeof shapeNode.value === "string" && !dtypeNode) {
        dtypeNode = shapeNode; // R.Tensor("float32", ndim=2)
        shapeNode = undefined;
      }
      const vdev = a.byName.get("vdevice");
      if (vdev && !isNone(vdev)) ctx.fail("Virtual devices are not supported", vdev);
      const dtype: DType = dtypeNode && !isNone(dtypeNode) ? dtypeArg(ctx, dtypeNode) : "void";
      const ndimNode = a.byName.get("ndim");
      const ndim = ndimNode ? expectInt(ctx, ndimNode, "ndim") : undefined;
      if (!shapeNode || isNone(shapeNode)) return tensorSInfo(undefined, dtype, ndim);
      if (shapeNode.kind !== "Tuple" && shapeNode.kind !== "List") {
        return ctx.fail(
          `Expected a shape tuple such as (n, 4), got ${describeExpr(shapeNode)}`,
          shapeNode,
        );
      }
      const dims = shapeNode.elts.map((d) => dim(h, d, declare));
      return tensorSInfo(dims, dtype, ndim);
    }
    case "R.Shape": {
      const a = bindArgs(ctx, e, ["values", "ndim"], 0);
      const v = a.byName.get("values");
      const ndimNode = a.byName.get("ndim");
      const ndim = ndimNode ? expectInt(ctx, ndimNode, "ndim") : undefined;
      if (!v || isNone(v)) return shapeSInfo(undefined, ndim);
      if (v.kind !== "Tuple" && v.kind !== "List") {
        return ctx.fail(`Expected a list of dimensions, got ${describeExpr(v)}`, v);
      }
      const s = shapeSInfo(v.elts.map((d) => dim(h, d, declare)));
      if (ndim !== undefined && ndim !== s.ndim) {
        ctx.fail(`R.Shape has ${s.ndim} values but ndim is ${ndim}`, ndimNode!);
      }
      return s;
    }
    case "R.Prim": {
      const a = bindArgs(ctx, e, ["dtype", "value"], 0);
      const d = a.byName.get("dtype");
      const v = a.byName.get("value");
      if (v && !isNone(v)) {
        const value = dim(h, v, declare, d ? dtypeArg(ctx, d) : undefined);
        return primSInfo(d ? dtypeArg(ctx, d) : value.dtype, value);
      }
      if (!d) return ctx.fail('R.Prim needs a dtype or a value, as in R.Prim("int64")', e);
      return primSInfo(dtypeArg(ctx, d));
    }
    case "R.Tuple": {
      if (e.keywords.length > 0) {
        ctx.fail(
          `Cannot call "R.Tuple": unexpected keyword argument "${e.keywords[0]!.name}"`,
          e.keywords[0]!,
        );
      }
      const only = e.args.length === 1 ? e.args[0]! : undefined;
      const items = only && (only.kind === "List" || only.kind === "Tuple") ? only.elts : e.args;
      return tupleSInfo(items.map((x) => parseSInfo(h, x, declare)));
    }
    case "R.Object": {
      bindArgs(ctx, e, []);
      return objectSInfo();
    }
    case "R.Callable": {
      const a = bindArgs(ctx, e, ["params", "ret", "purity", "derive_func"], 0);
      const p = a.byName.get("params");
      let params: StructInfo[] | undefined;
      if (p && !isNone(p)) {
        if (p.kind !== "Tuple" && p.kind !== "List") {
          return ctx.fail(`Expected a tuple of parameter infos, got ${describeExpr(p)}`, p);
        }
        params = p.elts.map((x) => parseSInfo(h, x, declare));
      }
      const r = a.byName.get("ret");
      const ret = r && !isNone(r) ? parseSInfo(h, r, declare) : objectSInfo();
      const pu = a.byName.get("purity");
      const purity = pu ? expectBool(ctx, pu, "purity") : true;
      if (a.byName.has("derive_func")) {
        ctx.fail("derive_func is not supported", a.byName.get("derive_func")!);
      }
      return funcSInfo(params, ret, purity);
    }
    default:
      return ctx.fail(
        `Expected a struct info annotation such as R.Tensor(...), got ${describeExpr(e)}`,
        e,
      );
  }
}

function isNone(e: ExprNode): boolean {
  return e.kind === "Constant" && e.value === null;
}

/** A shape dimension: an int (int64), a string naming a symbolic variable, or an expression. */
function dim(h: SInfoHost, d: ExprNode, declare: boolean, like: DType = "int64"): PrimExpr {
  const ctx: ParseContext = h.ctx;
  if (d.kind === "Constant" && typeof d.value === "string") {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(d.value)) return h.symbolicVar(d.value, declare, d);
    // a quoted expression such as "n * 2", as TVM prints dimensions of parameters
    let sub: ExprNode;
    try {
      sub = relocate(parseExpressionSyntax(new SourceText(d.value, ctx.src.fileName)), d);
    } catch (err) {
      if (err instanceof TVMScriptParseError) {
        return ctx.fail(`Invalid shape expression "${d.value}": ${err.reason}`, d);
      }
      throw err;
    }
    return h.ev.expr(sub, like);
  }
  if (d.kind === "Constant" && typeof d.value === "number" && !d.isFloat) {
    if (d.value < 0) return ctx.fail(`Shape dimension must be non-negative, got ${d.value}`, d);
    return intImm(d.value, like);
  }
  return h.ev.expr(d, like);
}

/** A copy of an expression tree with every node placed at `at` (for quoted sub-expressions). */
function relocate<T>(node: T, at: { readonly line: number; readonly col: number }): T {
  if (Array.isArray(node)) return node.map((x) => relocate(x, at)) as T;
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = relocate(v, at);
  if ("line" in out) {
    out.line = at.line;
    out.col = at.col;
  }
  return out as T;
}

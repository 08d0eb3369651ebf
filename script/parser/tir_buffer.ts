/**
 * Buffer declarations (`T.Buffer`, `T.match_buffer`, `T.alloc_buffer`, ...) and buffer regions
 * (`A[vi, 0:128]`) of the TIR parser.
 *
 * @module
 */

import type { DType } from "../../ir/dtype.ts";
import {
  binary,
  type Buffer,
  declBuffer,
  intImm,
  type PrimExpr,
  primVar,
  type Range,
  type StorageScope,
  type Var,
} from "../../ir/expr.ts";
import { type BufferRegion, bufferRegion } from "../../ir/tir/stmt.ts";
import { type CallNode, describeExpr, type ExprNode, type SliceNode } from "./ast.ts";
import { bindArgs, expectInt, expectString, type ParseContext } from "./context.ts";
import { dtypeArg, isBuffer, isLit, type PrimEval } from "./prim_eval.ts";
import { sameExpr } from "./prim_util.ts";

const SCOPES: readonly StorageScope[] = ["global", "shared", "local", "shared.dyn", "uniform"];

/** The parameters of the buffer-declaring functions, after any leading positional ones. */
const BUFFER_PARAMS = [
  "shape",
  "dtype",
  "data",
  "strides",
  "elem_offset",
  "scope",
  "align",
  "offset_factor",
  "buffer_type",
  "axis_separators",
  "layout",
];

/** Options that override what the call says (e.g. `T.alloc_shared` fixes the scope). */
export interface BufferDeclOptions {
  /** Names of leading positional parameters before `shape` (e.g. `param` of match_buffer). */
  readonly lead?: readonly string[];
  /** The storage scope to use when the call gives none. */
  readonly scope?: StorageScope;
  /** The shape when the call gives none (a match buffer takes its region's). */
  readonly defaultShape?: readonly PrimExpr[];
}

/** A parsed buffer declaration call. */
export interface BufferDecl {
  readonly buffer: Buffer;
  /** Leading positional arguments (e.g. the handle of `T.match_buffer`). */
  readonly lead: ReadonlyMap<string, ExprNode>;
}

/** Parses `T.Buffer(shape, dtype, ...)`-style arguments into a new buffer named `name`. */
export function parseBufferDecl(
  ev: PrimEval,
  node: CallNode,
  name: string,
  options: BufferDeclOptions = {},
): BufferDecl {
  const ctx: ParseContext = ev.ctx;
  const lead = options.lead ?? [];
  const required = lead.length + (options.defaultShape ? 0 : 1);
  const a = bindArgs(ctx, node, [...lead, ...BUFFER_PARAMS], required);
  const shapeNode = a.byName.get("shape");
  const shapeElts = !shapeNode
    ? []
    : shapeNode.kind === "Tuple" || shapeNode.kind === "List"
    ? shapeNode.elts
    : [shapeNode];
  const shape = shapeNode ? shapeElts.map((s) => ev.expr(s)) : [...options.defaultShape!];
  const idxType: DType = shape[0]?.dtype ?? "int32";
  const dtypeNode = a.byName.get("dtype");
  const dtype: DType = dtypeNode && !isNone(dtypeNode) ? dtypeArg(ctx, dtypeNode) : "float32";
  let data: Var | undefined;
  const dataNode = a.byName.get("data");
  if (dataNode && !isNone(dataNode)) {
    const d = ev.value(dataNode);
    if (isBuffer(d) || isLit(d) || d.kind !== "Var" || d.dtype !== "handle") {
      return ctx.fail(
        `Expected a data pointer (a handle variable such as A.data), got ${describeExpr(dataNode)}`,
        dataNode,
      );
    }
    data = d;
  }
  let strides: PrimExpr[] | undefined;
  const stridesNode = a.byName.get("strides");
  if (stridesNode && !isNone(stridesNode)) {
    if (stridesNode.kind !== "Tuple" && stridesNode.kind !== "List") {
      return ctx.fail(`Expected a tuple of strides, got ${describeExpr(stridesNode)}`, stridesNode);
    }
    strides = stridesNode.elts.map((s) => stringVarOr(ev, s, idxType));
    if (strides.length !== shape.length) {
      ctx.fail(
        `Buffer "${name}" has ${shape.length} dimensions but ${strides.length} strides`,
        stridesNode,
      );
    }
  }
  const offNode = a.byName.get("elem_offset");
  const factorNode = a.byName.get("offset_factor");
  const offsetFactor = factorNode ? expectInt(ctx, factorNode, "offset_factor") : 0;
  // as in TVM, a nonzero offset factor without an offset makes the offset a new variable
  const elemOffset = offNode && !isNone(offNode)
    ? stringVarOr(ev, offNode, idxType)
    : offsetFactor !== 0
    ? primVar("elem_offset", idxType)
    : undefined;
  let scope = options.scope ?? "global";
  const scopeNode = a.byName.get("scope");
  if (scopeNode) {
    const s = expectString(ctx, scopeNode, "a storage scope");
    if (!(SCOPES as readonly string[]).includes(s)) {
      ctx.fail(`Unknown storage scope "${s}" (expected one of ${SCOPES.join(", ")})`, scopeNode);
    }
    scope = s as StorageScope;
  }
  const alignNode = a.byName.get("align");
  const alignment = alignNode ? expectInt(ctx, alignNode, "align") : 0;
  const bufferType = a.byName.get("buffer_type");
  if (bufferType && expectString(ctx, bufferType, "buffer_type") !== "default") {
    ctx.fail('Only buffer_type="default" is supported', bufferType);
  }
  const axisSep = a.byName.get("axis_separators");
  if (
    axisSep && !isNone(axisSep) &&
    !((axisSep.kind === "List" || axisSep.kind === "Tuple") && axisSep.elts.length === 0)
  ) {
    ctx.fail("Axis separators are not supported", axisSep);
  }
  const layout = a.byName.get("layout");
  if (layout && !isNone(layout)) ctx.fail("Buffer layouts are not supported", layout);
  const buffer = ctx.guard(node, () =>
    declBuffer(shape, dtype, name, {
      ...(data ? { data } : {}),
      ...(strides ? { strides } : {}),
      ...(elemOffset ? { elemOffset } : {}),
      scope,
      alignment,
    }));
  const leadMap = new Map<string, ExprNode>();
  for (const l of lead) leadMap.set(l, a.byName.get(l)!);
  return { buffer, lead: leadMap };
}

function isNone(e: ExprNode): boolean {
  return e.kind === "Constant" && e.value === null;
}

/** A string names a new variable (as TVM prints inline stride/offset variables); else an expression. */
function stringVarOr(ev: PrimEval, e: ExprNode, dtype: DType): PrimExpr {
  if (e.kind === "Constant" && typeof e.value === "string") return primVar(e.value, dtype);
  return ev.expr(e, dtype);
}

/** `A[i, 0:n]` as a region: points have extent 1; slices span `[lower, upper)`. */
export function parseRegion(ev: PrimEval, e: ExprNode): BufferRegion {
  const ctx: ParseContext = ev.ctx;
  if (e.kind === "Name") {
    const b = ev.value(e);
    if (isBuffer(b)) return bufferRegion(b);
  }
  if (e.kind !== "Subscript") {
    return ctx.fail(`Expected a buffer region such as A[i, 0:8], got ${describeExpr(e)}`, e);
  }
  const b = ev.value(e.value);
  if (!isBuffer(b)) {
    return ctx.fail(`Cannot index ${describeExpr(e.value)}: it is not a buffer`, e.value);
  }
  const only = e.indices.length === 1 ? e.indices[0]! : undefined;
  if (only?.kind === "Tuple" && only.elts.length === 0) return bufferRegion(b, []); // A[()]
  return ctx.guard(e, () => {
    if (e.indices.length > b.shape.length) {
      ctx.fail(
        `Buffer "${b.name}" has ${b.shape.length} dimensions, got ${e.indices.length} indices`,
        e,
      );
    }
    const region: Range[] = e.indices.map((ix, i) => regionRange(ev, ix, b.shape[i]!));
    for (let i = e.indices.length; i < b.shape.length; i++) {
      const s = b.shape[i]!;
      region.push({ kind: "Range", min: intImm(0, s.dtype), extent: s });
    }
    return bufferRegion(b, region);
  });
}

function regionRange(ev: PrimEval, ix: ExprNode | SliceNode, dim: PrimExpr): Range {
  if (ix.kind !== "Slice") {
    const p = ev.expr(ix);
    return { kind: "Range", min: p, extent: intImm(1, p.dtype) };
  }
  if (ix.step) ev.ctx.fail("A region slice cannot have a step", ix.step);
  const lo = ix.lower ? ev.expr(ix.lower, ix.upper ? undefined : dim.dtype) : undefined;
  const hi = ix.upper ? ev.expr(ix.upper, lo?.dtype ?? dim.dtype) : dim;
  const min = lo ?? intImm(0, hi.dtype);
  const [m, h] = ev.match(min, hi, ix.lower ?? ix);
  return { kind: "Range", min: m, extent: extentOf(m, h) };
}

/** `hi - lo`, simplified in the common printed shapes (constants, `x + c - x`). */
export function extentOf(lo: PrimExpr, hi: PrimExpr): PrimExpr {
  if (lo.kind === "IntImm" && hi.kind === "IntImm") return intImm(hi.value - lo.value, hi.dtype);
  if (lo.kind === "IntImm" && lo.value === 0) return hi;
  if (hi.kind === "Add" && sameExpr(hi.a, lo)) return hi.b;
  if (hi.kind === "Add" && sameExpr(hi.b, lo)) return hi.a;
  return binary("Sub", hi, lo);
}

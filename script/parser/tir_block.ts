/**
 * The header statements of a TIR block: `T.axis.*` iteration variables, `T.where`,
 * `T.reads`/`T.writes`, `T.sblock_attr` and block-level `T.match_buffer`.
 *
 * @module
 */

import type { DType } from "../../ir/dtype.ts";
import { type Buffer, intImm, type PrimExpr, primVar } from "../../ir/expr.ts";
import {
  type Attrs,
  type BufferRegion,
  type IterKind,
  type IterVar,
  iterVar,
  type MatchBufferRegion,
  matchBufferRegion,
  type Stmt,
} from "../../ir/tir/stmt.ts";
import { type CallNode, describeExpr, dottedName, type ExprNode } from "./ast.ts";
import { bindArgs, expectString, type ParseContext, toAttrDict } from "./context.ts";
import { dtypeArg, isBuffer, isLit } from "./prim_eval.ts";
import { extentOf, parseBufferDecl, parseRegion } from "./tir_buffer.ts";
import type { TirParser } from "./tir.ts";

/** What the header statements of a block collect. */
export interface BlockFrame {
  readonly iterVars: IterVar[];
  readonly iterValues: PrimExpr[];
  reads: BufferRegion[] | undefined;
  writes: BufferRegion[] | undefined;
  predicate: PrimExpr | undefined;
  annotations: Attrs | undefined;
  init: Stmt | undefined;
  readonly allocBuffers: Buffer[];
  readonly matchBuffers: MatchBufferRegion[];
}

/** An empty block header. */
export function newBlockFrame(): BlockFrame {
  return {
    iterVars: [],
    iterValues: [],
    reads: undefined,
    writes: undefined,
    predicate: undefined,
    annotations: undefined,
    init: undefined,
    allocBuffers: [],
    matchBuffers: [],
  };
}

const AXIS_KINDS: { readonly [name: string]: IterKind } = {
  "T.axis.spatial": "spatial",
  "T.axis.S": "spatial",
  "T.axis.reduce": "reduce",
  "T.axis.R": "reduce",
  "T.axis.scan": "scan",
  "T.axis.opaque": "opaque",
};

const HEADER_CALLS = new Set(["T.reads", "T.writes", "T.where", "T.sblock_attr", "T.block_attr"]);

/** Handles `T.reads(...)`, `T.writes(...)`, `T.where(...)`, `T.sblock_attr({...})`; false if not one. */
export function parseBlockHeaderCall(p: TirParser, name: string, call: CallNode): boolean {
  if (!HEADER_CALLS.has(name)) return false;
  const ctx: ParseContext = p.ctx;
  const frame = p.block;
  if (!frame) return ctx.fail(`${name} must be inside a block`, call);
  if (call.keywords.length > 0) {
    ctx.fail(
      `Cannot call "${name}": unexpected keyword argument "${call.keywords[0]!.name}"`,
      call.keywords[0]!,
    );
  }
  switch (name) {
    case "T.reads":
    case "T.writes": {
      const only = call.args.length === 1 ? call.args[0]! : undefined;
      const items = only && (only.kind === "List" || only.kind === "Tuple") ? only.elts : call.args;
      const regions = items.map((x) => parseRegion(p.ev, x));
      if (name === "T.reads") {
        if (frame.reads) ctx.fail("T.reads is given twice in this block", call);
        frame.reads = regions;
      } else {
        if (frame.writes) ctx.fail("T.writes is given twice in this block", call);
        frame.writes = regions;
      }
      return true;
    }
    case "T.where": {
      const a = bindArgs(ctx, call, ["predicate"]);
      if (frame.predicate) ctx.fail("T.where is given twice in this block", call);
      frame.predicate = p.ev.expr(a.byName.get("predicate")!, "bool");
      return true;
    }
    default: {
      const a = bindArgs(ctx, call, ["attrs"]);
      frame.annotations = {
        ...frame.annotations,
        ...toAttrDict(ctx, a.byName.get("attrs")!, (x) => p.ev.expr(x)),
      };
      return true;
    }
  }
}

/**
 * Handles `vi = T.axis.spatial(128, i)`, `vi, vj = T.axis.remap("SS", [i, j])` and
 * `sub = T.match_buffer(A[0:16], (16,))` inside a block; false if the statement is not one.
 */
export function parseBlockHeaderAssign(p: TirParser, target: ExprNode, value: CallNode): boolean {
  const ctx: ParseContext = p.ctx;
  const fn = dottedName(value.func);
  if (fn === undefined) return false;
  if (Object.hasOwn(AXIS_KINDS, fn)) {
    if (target.kind !== "Name") {
      return ctx.fail(`${fn} defines one variable, got ${describeExpr(target)}`, target);
    }
    const frame = p.block;
    if (!frame) return ctx.fail(`${fn} must be inside a block`, value);
    const a = bindArgs(ctx, value, ["dom", "binding", "dtype"], 2);
    const t = a.byName.get("dtype");
    const declared: DType | undefined = t ? dtypeArg(ctx, t) : undefined;
    const bindingNode = a.byName.get("binding")!;
    const bv = p.ev.tval(bindingNode);
    const dtype = declared ?? (isLit(bv) ? undefined : bv.dtype);
    const domNode = a.byName.get("dom")!;
    let min: PrimExpr;
    let extent: PrimExpr;
    if (domNode.kind === "Tuple" || domNode.kind === "List") {
      if (domNode.elts.length !== 2) return ctx.fail("Expected a domain (min, max)", domNode);
      const [lo, hi] = p.ev.match(
        p.ev.tval(domNode.elts[0]!),
        p.ev.tval(domNode.elts[1]!),
        domNode,
      );
      min = p.ev.finalize(lo, domNode, dtype);
      extent = extentOf(lo, hi);
    } else {
      extent = p.ev.expr(domNode, dtype);
      min = intImm(0, extent.dtype);
    }
    const binding = p.ev.finalize(bv, bindingNode, extent.dtype);
    defineIterVar(p, target.id, { min, extent }, binding, AXIS_KINDS[fn]!, value);
    return true;
  }
  if (fn === "T.axis.remap") {
    const frame = p.block;
    if (!frame) return ctx.fail("T.axis.remap must be inside a block", value);
    const a = bindArgs(ctx, value, ["kinds", "bindings"]);
    const kindsNode = a.byName.get("kinds")!;
    const kinds = expectString(ctx, kindsNode, "the iteration kinds");
    const list = a.byName.get("bindings")!;
    if (list.kind !== "List" && list.kind !== "Tuple") {
      return ctx.fail(`Expected a list of loop variables, got ${describeExpr(list)}`, list);
    }
    const names = target.kind === "Tuple" ? target.elts : [target];
    if (kinds.length !== list.elts.length || names.length !== list.elts.length) {
      return ctx.fail(
        `T.axis.remap: ${names.length} variables, ${kinds.length} kinds and ${list.elts.length} loop variables must match`,
        value,
      );
    }
    list.elts.forEach((b, i) => {
      const k = kinds[i]!;
      if (k !== "S" && k !== "R") {
        ctx.fail(`Unknown iteration kind "${k}" (expected "S" or "R")`, kindsNode);
      }
      const n = names[i]!;
      if (n.kind !== "Name") return ctx.fail(`Expected a variable name, got ${describeExpr(n)}`, n);
      const lv = p.ev.value(b);
      const range = !isBuffer(lv) && !isLit(lv) && lv.kind === "Var" ? p.loops.get(lv) : undefined;
      if (!range || isBuffer(lv) || isLit(lv)) {
        return ctx.fail(`T.axis.remap expects loop variables, got ${describeExpr(b)}`, b);
      }
      defineIterVar(p, n.id, range, lv, k === "S" ? "spatial" : "reduce", b);
    });
    return true;
  }
  if (fn === "T.match_buffer" && p.block && target.kind === "Name") {
    const src = value.args[0];
    if (!src || (src.kind !== "Subscript" && src.kind !== "Name")) return false;
    const region = parseRegion(p.ev, src);
    const defaultShape = region.region.map((r) => r.extent);
    const { buffer } = parseBufferDecl(p.ev, value, target.id, { lead: ["param"], defaultShape });
    p.block.matchBuffers.push(matchBufferRegion(buffer, region));
    p.scope.define(target.id, buffer);
    return true;
  }
  return false;
}

function defineIterVar(
  p: TirParser,
  name: string,
  dom: { readonly min: PrimExpr; readonly extent: PrimExpr },
  binding: PrimExpr,
  kind: IterKind,
  at: ExprNode,
): void {
  const frame = p.block!;
  p.ctx.guard(at, () => {
    const v = primVar(name, binding.dtype);
    if (dom.extent.dtype !== binding.dtype || dom.min.dtype !== binding.dtype) {
      throw new Error(
        `Iteration variable "${name}" is bound to a ${binding.dtype} value but its domain is ${dom.extent.dtype}`,
      );
    }
    frame.iterVars.push(iterVar(v, { kind: "Range", min: dom.min, extent: dom.extent }, kind));
    frame.iterValues.push(binding);
    p.scope.define(name, v);
  });
}

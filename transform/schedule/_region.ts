/**
 * Buffer regions as the inlining primitives update them: substitution, union, relaxation.
 *
 * @module
 */

import {
  add,
  type Buffer,
  type PrimExpr,
  type Range,
  range,
  toExpr,
  type Var,
} from "../../ir/expr.ts";
import type { BufferRegion, SBlock, Stmt } from "../../ir/tir/stmt.ts";
import { exprEqual, substExpr, usesVar } from "./_arith.ts";
import { walkWithPath } from "./_tree.ts";

/** The whole extent of dimension `d` of `buffer`. */
export function fullRange(buffer: Buffer, d: number): Range {
  return range(buffer.shape[d]!);
}

/** `e` as `base + offset` with a constant offset (`base` undefined for a constant). */
function splitOffset(e: PrimExpr): { base: PrimExpr | undefined; offset: number } {
  if (e.kind === "IntImm") return { base: undefined, offset: e.value };
  if (e.kind === "Add" && e.b.kind === "IntImm") return { base: e.a, offset: e.b.value };
  if (e.kind === "Sub" && e.b.kind === "IntImm") return { base: e.a, offset: -e.b.value };
  return { base: e, offset: 0 };
}

/** The smallest range we can express that covers `a` and `b` (else the whole dimension). */
export function unionRange(a: Range, b: Range, buffer: Buffer, d: number): Range {
  if (exprEqual(a.min, b.min) && exprEqual(a.extent, b.extent)) return a;
  const x = splitOffset(a.min), y = splitOffset(b.min);
  const sameBase = x.base === undefined
    ? y.base === undefined
    : y.base !== undefined && exprEqual(x.base, y.base);
  if (sameBase && a.extent.kind === "IntImm" && b.extent.kind === "IntImm") {
    const lo = Math.min(x.offset, y.offset);
    const hi = Math.max(x.offset + a.extent.value, y.offset + b.extent.value);
    const base = x.base ?? toExpr(0, a.min);
    const min = lo === x.offset ? a.min : lo === y.offset ? b.min : add(base, lo);
    return { kind: "Range", min, extent: toExpr(hi - lo, a.extent) };
  }
  return fullRange(buffer, d);
}

/** Merges regions of the same buffer (keeping the position of the first one). */
export function mergeRegions(regions: readonly BufferRegion[]): BufferRegion[] {
  const out: BufferRegion[] = [];
  for (const r of regions) {
    const i = out.findIndex((o) => o.buffer === r.buffer);
    if (i < 0) {
      out.push(r);
      continue;
    }
    const o = out[i]!;
    out[i] = { ...o, region: o.region.map((x, d) => unionRange(x, r.region[d]!, o.buffer, d)) };
  }
  return out;
}

/** A region with variables substituted. */
export function substRegion(r: BufferRegion, map: ReadonlyMap<Var, PrimExpr>): BufferRegion {
  return {
    ...r,
    region: r.region.map((x) => ({
      kind: "Range",
      min: substExpr(x.min, map),
      extent: substExpr(x.extent, map),
    })),
  };
}

/** A region whose dimensions mentioning any of `vars` are widened to the whole dimension. */
export function relaxRegion(r: BufferRegion, vars: ReadonlySet<Var>): BufferRegion {
  if (vars.size === 0) return r;
  let changed = false;
  const region = r.region.map((x, d) => {
    if (!usesVar(x.min, vars) && !usesVar(x.extent, vars)) return x;
    changed = true;
    return fullRange(r.buffer, d);
  });
  return changed ? { ...r, region } : r;
}

/** Variables defined inside a block's body and init (loop vars, lets, nested iter vars). */
export function innerVars(block: SBlock): Set<Var> {
  const out = new Set<Var>();
  const visit = (s: Stmt) =>
    walkWithPath(s, (x) => {
      if (x.kind === "For" || x.kind === "LetStmt") out.add(x.kind === "For" ? x.loopVar : x.var);
      if (x.kind === "SBlock") { for (const iv of x.iterVars) out.add(iv.var); }
    });
  visit(block.body);
  if (block.init) visit(block.init);
  return out;
}

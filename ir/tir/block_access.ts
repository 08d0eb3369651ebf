/**
 * Read and write regions of a generated block, the way TVMScript completion derives them: every
 * buffer access under the block (init first, then body), one region per buffer in order of first
 * use; written buffers are left out of the reads. Accesses of one buffer merge into a bounding
 * region when their indices differ by constants, else into the whole dimension.
 *
 * @module
 */

import {
  add,
  type Buffer,
  type BufferLoad,
  intImm,
  type PrimExpr,
  type Range,
  sub,
  type Var,
} from "../expr.ts";
import { type BufferRegion, bufferRegion, type SBlock, type Stmt } from "./stmt.ts";
import { rewritePrimExpr, visitPrimExpr } from "../visit.ts";
import { exprDeepEqual } from "../expr_equal.ts";

/** One access: a buffer and its indices, with inner block vars replaced by their bindings. */
interface Access {
  readonly buffer: Buffer;
  readonly indices: readonly PrimExpr[];
}

/** A loop inside the block: its variable ranges over `[min, min + extent)`. */
interface InnerLoop {
  readonly min: PrimExpr;
  readonly extent: PrimExpr;
}

interface Collector {
  readonly reads: Access[];
  readonly writes: Access[];
  readonly loops: Map<Var, InnerLoop>;
}

function substitute(e: PrimExpr, map: ReadonlyMap<Var, PrimExpr>): PrimExpr {
  if (map.size === 0) return e;
  return rewritePrimExpr(e, { preExpr: (x) => (x.kind === "Var" ? map.get(x) : undefined) });
}

function collectExpr(e: PrimExpr, map: ReadonlyMap<Var, PrimExpr>, c: Collector): void {
  visitPrimExpr(substitute(e, map), (x) => {
    if (x.kind === "BufferLoad") {
      c.reads.push({ buffer: x.buffer, indices: (x as BufferLoad).indices });
    }
  });
}

function collectStmt(s: Stmt, map: Map<Var, PrimExpr>, c: Collector): void {
  const ex = (e: PrimExpr) => collectExpr(e, map, c);
  switch (s.kind) {
    case "For":
      ex(s.min);
      ex(s.extent);
      c.loops.set(s.loopVar, { min: substitute(s.min, map), extent: substitute(s.extent, map) });
      collectStmt(s.body, map, c);
      break;
    case "SBlockRealize": {
      s.iterValues.forEach(ex);
      const inner = new Map(map);
      s.block.iterVars.forEach((iv, i) => inner.set(iv.var, substitute(s.iterValues[i]!, map)));
      collectBlock(s.block, inner, c);
      break;
    }
    case "SBlock":
      collectBlock(s, map, c);
      break;
    case "BufferStore":
      ex(s.value);
      s.indices.forEach(ex);
      c.writes.push({ buffer: s.buffer, indices: s.indices.map((i) => substitute(i, map)) });
      break;
    case "SeqStmt":
      for (const x of s.seq) collectStmt(x, map, c);
      break;
    case "IfThenElse":
      ex(s.cond);
      collectStmt(s.then, map, c);
      if (s.else) collectStmt(s.else, map, c);
      break;
    case "LetStmt":
      ex(s.value);
      collectStmt(s.body, map, c);
      break;
    case "Evaluate":
      ex(s.value);
      break;
    case "AllocBuffer":
    case "DeclBuffer":
      collectStmt(s.body, map, c);
      break;
    case "AssertStmt":
      ex(s.cond);
      collectStmt(s.body, map, c);
      break;
    case "While":
      ex(s.cond);
      collectStmt(s.body, map, c);
      break;
    default:
      s satisfies never;
  }
}

function collectBlock(b: SBlock, map: Map<Var, PrimExpr>, c: Collector): void {
  if (b.init) collectStmt(b.init, map, c);
  collectStmt(b.body, map, c);
}

/** Whether two expressions are the same tree (variables and buffers compared by identity). */
export const sameExpr: (a: PrimExpr, b: PrimExpr) => boolean = exprDeepEqual;

function mentions(e: PrimExpr, vars: ReadonlyMap<Var, unknown>): boolean {
  let found = false;
  visitPrimExpr(e, (x) => {
    if (x.kind === "Var" && vars.has(x)) found = true;
    return !found;
  });
  return found;
}

/** An index as `base + offset` with a constant offset, over `extent` values. */
interface Interval {
  readonly base: PrimExpr | undefined;
  readonly offset: number;
  /** A number when constant. */
  readonly extent: PrimExpr | number;
}

function splitOffset(e: PrimExpr): [PrimExpr | undefined, number] {
  if (e.kind === "IntImm") return [undefined, e.value];
  if (e.kind === "Add" && e.b.kind === "IntImm") return [e.a, e.b.value];
  if (e.kind === "Add" && e.a.kind === "IntImm") return [e.b, e.a.value];
  if (e.kind === "Sub" && e.b.kind === "IntImm") return [e.a, -e.b.value];
  return [e, 0];
}

function interval(e: PrimExpr, loops: ReadonlyMap<Var, InnerLoop>): Interval | undefined {
  if (!mentions(e, loops)) {
    const [base, offset] = splitOffset(e);
    return { base, offset, extent: 1 };
  }
  // `lv`, `x + lv` or `lv + x` with an inner loop variable lv and x free of inner loops
  const parts: [PrimExpr | undefined, PrimExpr][] = e.kind === "Var"
    ? [[undefined, e]]
    : e.kind === "Add"
    ? [[e.a, e.b], [e.b, e.a]]
    : [];
  for (const [x, lv] of parts) {
    const loop = lv.kind === "Var" ? loops.get(lv) : undefined;
    if (!loop || (x && mentions(x, loops)) || mentions(loop.min, loops)) continue;
    if (mentions(loop.extent, loops)) continue;
    const start = x ? add(x, loop.min) : loop.min;
    const [base, offset] = splitOffset(start);
    const ext = loop.extent.kind === "IntImm" ? loop.extent.value : loop.extent;
    return { base, offset, extent: ext };
  }
  return undefined;
}

function regionOf(buffer: Buffer, accesses: readonly Access[], loops: ReadonlyMap<Var, InnerLoop>) {
  return buffer.shape.map((dim, d): Range => {
    const full: Range = { kind: "Range", min: intImm(0, dim.dtype), extent: dim };
    const ivs = accesses.map((a) => interval(a.indices[d]!, loops));
    if (ivs.some((iv) => iv === undefined)) return full;
    const list = ivs as Interval[];
    const first = list[0]!;
    const dt = accesses[0]!.indices[d]!.dtype;
    if (list.length === 1 || list.every((iv) => sameInterval(iv, first))) {
      return makeRange(first.base, first.offset, first.extent, dt);
    }
    const sameBase = list.every((iv) =>
      iv.base === undefined
        ? first.base === undefined
        : first.base !== undefined && sameExpr(iv.base, first.base)
    );
    if (!sameBase || list.some((iv) => typeof iv.extent !== "number")) return full;
    const lo = Math.min(...list.map((iv) => iv.offset));
    const hi = Math.max(...list.map((iv) => iv.offset + (iv.extent as number)));
    return makeRange(first.base, lo, hi - lo, dt);
  });
}

function sameInterval(a: Interval, b: Interval): boolean {
  const baseEq = a.base === undefined || b.base === undefined
    ? a.base === b.base
    : sameExpr(a.base, b.base);
  const extEq = typeof a.extent === "number" || typeof b.extent === "number"
    ? a.extent === b.extent
    : sameExpr(a.extent, b.extent);
  return baseEq && extEq && a.offset === b.offset;
}

function makeRange(
  base: PrimExpr | undefined,
  offset: number,
  extent: PrimExpr | number,
  dtype: PrimExpr["dtype"],
): Range {
  let min: PrimExpr = base === undefined ? intImm(offset, dtype) : base;
  if (base !== undefined && offset > 0) min = add(base, intImm(offset, base.dtype));
  if (base !== undefined && offset < 0) min = sub(base, intImm(-offset, base.dtype));
  const ext = typeof extent === "number" ? intImm(extent, min.dtype) : extent;
  return { kind: "Range", min, extent: ext };
}

function group(accesses: readonly Access[]): Map<Buffer, Access[]> {
  const m = new Map<Buffer, Access[]>();
  for (const a of accesses) {
    const list = m.get(a.buffer);
    if (list) list.push(a);
    else m.set(a.buffer, [a]);
  }
  return m;
}

/**
 * The regions a block reads and writes, computed from its init and body. Variables of blocks
 * nested inside are replaced by their bindings; loops inside widen the regions they index.
 */
export function blockAccessRegions(
  init: Stmt | undefined,
  body: Stmt,
): { reads: BufferRegion[]; writes: BufferRegion[] } {
  const c: Collector = { reads: [], writes: [], loops: new Map() };
  if (init) collectStmt(init, new Map(), c);
  collectStmt(body, new Map(), c);
  const writes = [...group(c.writes)].map(([b, acc]) => bufferRegion(b, regionOf(b, acc, c.loops)));
  const written = new Set(writes.map((w) => w.buffer));
  const reads = [...group(c.reads)]
    .filter(([b]) => !written.has(b))
    .map(([b, acc]) => bufferRegion(b, regionOf(b, acc, c.loops)));
  return { reads, writes };
}

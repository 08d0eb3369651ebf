/**
 * `computeAt` and `reverseComputeAt`: move a block under a loop of its consumers (producers),
 * regenerating its loops so that each iteration of the loop computes exactly the region the
 * blocks under the loop need (produced). This is what makes tiling with shared memory possible:
 * a cache block moved under the reduction loop of a matmul copies one tile per iteration.
 *
 * The region is an exact set where the analysis of `_lattice.ts` finds one: a thread whose
 * elements are strided (a loop split `[outer, k, thread]`) gets one loop per stride, not the
 * interval between its first and last element. A consumer must not read what was not produced
 * under the loop, so reverseComputeAt throws where the produced set is not known exactly;
 * computeAt then falls back to the covering interval (extra work, but the same values).
 *
 * @module
 */

import type { DType } from "../../ir/dtype.ts";
import {
  add,
  and,
  type Buffer,
  floordiv,
  intImm,
  type PrimExpr,
  primVar,
  sub,
  type Var,
} from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import {
  type BufferRegion,
  type For,
  forLoop,
  type SBlock,
  type SBlockRealize,
  sblockRealize,
  seq,
  type Stmt,
} from "../../ir/tir/stmt.ts";
import { substExpr, usesVar } from "./_arith.ts";
import { getBlock } from "./_inline.ts";
import { getLoop } from "./_loops.ts";
import {
  type ExactSet,
  hullOf,
  isDense,
  latticeSpan,
  latticeValue,
  regionExactSets,
  sameExact,
  shiftExact,
  unionExact,
} from "./_lattice.ts";
import {
  bindingOf,
  type Bounds,
  boundsRange,
  clipBounds,
  loopAnalyzer,
  loopDomains,
  regionBounds,
  relaxesThread,
  unionBounds,
} from "./_relax.ts";
import {
  childIndexOf,
  isParamBuffer,
  readsBuffer,
  scopeBlocks,
  scopeOf,
  writesBuffer,
} from "./_scope.ts";
import { allRealizes, exclusiveTop, removeNode, replaceNode, topRealizes } from "./_tree.ts";
import type { Analyzer } from "../../ir/arith/analyzer.ts";

/** Options of {@link computeAt}. */
export interface ComputeAtOptions {
  /** Move the block under its producers' loop instead (`reverseComputeAt`). */
  readonly reverse: boolean;
  /** Keep loops of extent 1 in the regenerated nest. */
  readonly preserveUnitLoops: boolean;
}

function fors(path: readonly Stmt[]): For[] {
  return path.filter((s): s is For => s.kind === "For");
}

/**
 * What one dimension of a region must cover: its bounds and, when the analysis finds it, the
 * exact set of indices (see `_lattice.ts`), of which the bounds are then the hull.
 */
interface Need {
  readonly bounds: Bounds;
  readonly exact: ExactSet | undefined;
}

/** The union of two needs; the exact set is kept only where the union is provably exact. */
function unionNeed(a: Need, b: Need, an: Analyzer): Need {
  const exact = a.exact && b.exact && unionExact(a.exact, b.exact, an);
  return { bounds: unionBounds(a.bounds, b.bounds, an), exact };
}

/**
 * What the blocks `reqs` (all under `loop`) access, per buffer among `buffers` and dimension
 * (reads for computeAt, writes for reverseComputeAt), during one iteration of `loop`: the loops
 * between `loop` and each block range over their domains; for computeAt, so do the thread
 * loops at or above `loop` whose threads share the buffer's storage scope. Bounds are clipped
 * to the buffer's shape.
 */
function requiredNeeds(
  func: PrimFunc,
  loop: For,
  reqs: readonly SBlockRealize[],
  buffers: ReadonlySet<Buffer>,
  reverse: boolean,
  an: Analyzer,
): Map<Buffer, Need[]> {
  const out = new Map<Buffer, Need[]>();
  for (const r of reqs) {
    const path = getBlock(func, r.block.name).path;
    const at = path.indexOf(loop);
    const inner = fors(path.slice(at + 1));
    const above = fors(path.slice(0, at + 1));
    const regions: readonly BufferRegion[] = reverse ? r.block.writes : r.block.reads;
    for (const region of regions) {
      if (!buffers.has(region.buffer)) continue;
      const threads = reverse ? [] : above.filter((l) => relaxesThread(l, region.buffer.scope));
      const doms = loopDomains([...threads, ...inner], an);
      const binding = bindingOf(r);
      const bs = regionBounds(region, binding, doms, an);
      const sets = regionExactSets(
        region.region.map((x) => substExpr(x.min, binding)),
        region.region.map((x) => substExpr(x.extent, binding)),
        doms,
        an,
      );
      // the hull of an exact set is tighter than the bounds of the index expression
      const needs = sets.map((exact, d) => ({ bounds: exact ? hullOf(exact, an) : bs[d]!, exact }));
      const prev = out.get(region.buffer);
      out.set(region.buffer, prev ? prev.map((x, d) => unionNeed(x, needs[d]!, an)) : needs);
    }
  }
  for (const [buf, needs] of out) {
    out.set(
      buf,
      needs.map((n, d) => ({
        ...n,
        bounds: clipBounds(
          n.bounds,
          { kind: "Range", min: intImm(0, buf.shape[d]!.dtype), extent: buf.shape[d]! },
          an,
        ),
      })),
    );
  }
  return out;
}

/** A need shifted by `-offset` (the need of `v` from that of `v + offset`). */
function shiftNeed(n: Need, offset: PrimExpr, an: Analyzer): Need {
  const at = (e: PrimExpr) => an.simplify(sub(e, offset));
  return {
    bounds: { lo: at(n.bounds.lo), hi: at(n.bounds.hi) },
    exact: n.exact && shiftExact(n.exact, offset, an),
  };
}

/**
 * The need of each iteration variable of `block` such that its accesses `provided` cover the
 * required ones: an access `v`, `v + c` or (not for a consumer, which must not read beyond
 * what was produced) `v * c` in a dimension bounds `v`; variables no access bounds keep their
 * whole domain. A consumer (reverse) must cover exactly what was produced, so a need without
 * an exact set is an error there.
 */
function iterNeeds(
  block: SBlock,
  provided: readonly BufferRegion[],
  required: ReadonlyMap<Buffer, Need[]>,
  an: Analyzer,
  head: string,
  reverse: boolean,
): Need[] {
  const ivs = new Set<Var>(block.iterVars.map((iv) => iv.var));
  const found = new Map<Var, Need>();
  let buf: Buffer | undefined;
  const push = (v: Var, n: Need, d: number) => {
    if (reverse && !n.exact) {
      throw new Error(
        `${head}: it cannot cover exactly the elements of "${
          buf!.name
        }" its producers write under the loop: dimension ${d} is not a strided range of the loops`,
      );
    }
    const prev = found.get(v);
    if (prev && reverse && !sameExact(prev.exact!, n.exact!, an)) {
      throw new Error(
        `${head}: its reads of "${buf!.name}" need different domains of "${v.name}"`,
      );
    }
    found.set(v, prev ? unionNeed(prev, n, an) : n);
  };
  for (const p of provided) {
    buf = p.buffer;
    const req = required.get(p.buffer);
    if (!req) continue;
    p.region.forEach((rng, d) => {
      const q = req[d]!;
      const m = rng.min;
      const unit = rng.extent.kind === "IntImm" && rng.extent.value === 1;
      if (m.kind === "Var" && ivs.has(m) && unit) return push(m, q, d);
      if (m.kind === "Add" && m.a.kind === "Var" && ivs.has(m.a) && m.b.kind === "IntImm" && unit) {
        return push(m.a, shiftNeed(q, m.b, an), d);
      }
      if (
        !reverse && m.kind === "Mul" && m.a.kind === "Var" && ivs.has(m.a) &&
        m.b.kind === "IntImm" &&
        m.b.value > 0
      ) {
        const lo = an.simplify(floordiv(q.bounds.lo, m.b));
        const hi = an.simplify(floordiv(q.bounds.hi, m.b));
        return push(m.a, { bounds: { lo, hi }, exact: undefined }, d);
      }
      if (!usesVar(m, ivs) && !usesVar(rng.extent, ivs)) return;
      throw new Error(
        `${head}: cannot infer its iteration domain from its access to "${p.buffer.name}" in dimension ${d}`,
      );
    });
  }
  return block.iterVars.map((iv) => {
    const n = found.get(iv.var);
    if (n) return { ...n, bounds: clipBounds(n.bounds, iv.dom, an) };
    const hi = an.simplify(sub(add(iv.dom.min, iv.dom.extent), 1));
    return { bounds: { lo: iv.dom.min, hi }, exact: undefined };
  });
}

/**
 * The loops and realize of `block` that run it over `needs`: an interval becomes one loop
 * `ax` with the value `lo + ax`, a strided set one loop per axis (largest stride outermost)
 * and a predicate where the set may leave the block's domain.
 */
function regenerate(
  block: SBlock,
  needs: readonly Need[],
  an: Analyzer,
  preserveUnitLoops: boolean,
): Stmt {
  const axes: { v: Var; extent: PrimExpr }[] = [];
  const newAxis = (extent: PrimExpr, dtype: DType) => {
    const v = primVar(`ax${axes.length}`, dtype);
    axes.push({ v, extent });
    return v;
  };
  let predicate: PrimExpr = intImm(1, "bool");
  const values: PrimExpr[] = needs.map((n, i) => {
    const iv = block.iterVars[i]!;
    const l = n.exact;
    if (l?.kind === "lattice" && !isDense(l)) {
      const vars: Var[] = [];
      for (let g = l.axes.length - 1; g >= 0; g--) {
        vars[g] = newAxis(intImm(l.axes[g]!.extent, iv.var.dtype), iv.var.dtype);
      }
      const value = latticeValue(l, vars, an);
      const end = add(iv.dom.min, iv.dom.extent);
      if (!an.canProve(l.base.ge(iv.dom.min))) predicate = and(predicate, value.ge(iv.dom.min));
      if (!an.canProve(add(l.base, latticeSpan(l)).lt(end))) {
        predicate = and(predicate, value.lt(end));
      }
      return value;
    }
    const r = boundsRange(n.bounds, an);
    if (!preserveUnitLoops && r.extent.kind === "IntImm" && r.extent.value === 1) return r.min;
    return an.simplify(add(r.min, newAxis(r.extent, iv.var.dtype)));
  });
  let nest: Stmt = sblockRealize(values, block, an.simplify(predicate));
  for (let i = axes.length - 1; i >= 0; i--) {
    nest = forLoop(axes[i]!.v, { min: 0, extent: axes[i]!.extent }, nest);
  }
  return nest;
}

/** Moves block `name` under loop `v` (see the module description). */
export function computeAt(
  func: PrimFunc,
  name: string,
  v: Var,
  options: ComputeAtOptions,
): PrimFunc {
  const { reverse } = options;
  const verb = reverse ? "reverseComputeAt" : "computeAt";
  const { path, realize } = getBlock(func, name);
  const { loop, path: lpath } = getLoop(func, v);
  const head = `Cannot ${verb} block "${name}" under loop "${v.name}"`;
  if (path.length === 1) throw new Error(`${head}: it is the root block`);
  const scope = scopeOf(path);
  if (!scope || scopeOf(lpath)?.realize !== scope.realize) {
    throw new Error(`${head}: they are not in the same block scope`);
  }
  if (path.includes(loop)) throw new Error(`${head}: the loop encloses the block`);
  const block = realize.block;
  if (!reverse) {
    const out = block.writes.find((w) => isParamBuffer(func, w.buffer));
    if (out) throw new Error(`${head}: it writes output buffer "${out.buffer.name}"`);
  }
  const blocks = scopeBlocks(scope).filter((r) => r !== realize);
  const consumers = blocks.filter((r) => block.writes.some((w) => readsBuffer(r.block, w.buffer)));
  const producers = blocks.filter((r) => block.reads.some((x) => writesBuffer(r.block, x.buffer)));
  const required = reverse ? producers : consumers;
  const role = reverse ? "producer" : "consumer";
  const under = new Set(topRealizes(loop.body));
  const reqUnder = required.filter((r) => under.has(r));
  if (reqUnder.length === 0) {
    throw new Error(`${head}: the loop does not enclose a ${role} of "${name}"`);
  }
  const missing = required.find((r) => !under.has(r));
  if (missing) {
    throw new Error(`${head}: its ${role} "${missing.block.name}" is not under the loop`);
  }
  // The other side must stay where it is: producers before the loop, consumers after it.
  const order = allRealizes(scope.realize.block.body);
  const at = [...under].map((r) => order.indexOf(r));
  const [first, last] = [Math.min(...at), Math.max(...at)];
  const misplaced = reverse
    ? consumers.find((r) => !under.has(r) && order.indexOf(r) < first)
    : producers.find((r) => !under.has(r) && order.indexOf(r) > last);
  if (misplaced) {
    const [who, where] = reverse ? ["consumer", "before"] : ["producer", "after"];
    throw new Error(`${head}: its ${who} "${misplaced.block.name}" comes ${where} the loop`);
  }
  const kids = loop.body.kind === "SeqStmt" ? loop.body.seq : [loop.body];
  const idx = (rs: readonly SBlockRealize[]) =>
    rs.filter((r) => under.has(r)).map((r) => childIndexOf(kids, r));
  const lastProducer = Math.max(-1, ...idx(producers));
  const firstConsumer = Math.min(kids.length, ...idx(consumers));
  const pos = reverse ? lastProducer + 1 : firstConsumer;
  if (lastProducer >= firstConsumer) {
    throw new Error(
      `${head}: no place under the loop follows its producers and precedes its consumers`,
    );
  }
  const outer = fors(lpath);
  if (reverse) {
    const outerVars = new Set(outer.map((l) => l.loopVar));
    for (const p of reqUnder) {
      p.block.iterVars.forEach((iv, i) => {
        if (iv.iterKind === "reduce" && usesVar(p.iterValues[i]!, outerVars)) {
          throw new Error(
            `${head}: the loop is inside the reduction of its producer "${p.block.name}"`,
          );
        }
      });
    }
  }
  const an = loopAnalyzer(outer);
  const provided = reverse ? block.reads : block.writes;
  const req = requiredNeeds(
    func,
    loop,
    reqUnder,
    new Set(provided.map((p) => p.buffer)),
    reverse,
    an,
  );
  const needs = iterNeeds(block, provided, req, an, head, reverse);
  const nest = regenerate(block, needs, an, options.preserveUnitLoops);
  const newKids = [...kids];
  newKids.splice(pos, 0, nest);
  let body = replaceNode(func.body, loop, { ...loop, body: seq(...newKids) });
  body = removeNode(body, exclusiveTop(path));
  return { ...func, body };
}

/**
 * `computeAt` and `reverseComputeAt`: move a block under a loop of its consumers (producers),
 * regenerating its loops so that each iteration of the loop computes exactly the region the
 * blocks under the loop need (produced). This is what makes tiling with shared memory possible:
 * a cache block moved under the reduction loop of a matmul copies one tile per iteration.
 *
 * @module
 */

import {
  add,
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
import { usesVar } from "./_arith.ts";
import { getBlock } from "./_inline.ts";
import { getLoop } from "./_loops.ts";
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
 * The bounds, per buffer among `buffers`, that the blocks `reqs` (all under `loop`) access
 * (reads for computeAt, writes for reverseComputeAt) during one iteration of `loop`: the loops
 * between `loop` and each block range over their domains; for computeAt, so do the thread
 * loops at or above `loop` whose threads share the buffer's storage scope.
 */
function requiredBounds(
  func: PrimFunc,
  loop: For,
  reqs: readonly SBlockRealize[],
  buffers: ReadonlySet<Buffer>,
  reverse: boolean,
  an: Analyzer,
): Map<Buffer, Bounds[]> {
  const out = new Map<Buffer, Bounds[]>();
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
      const b = regionBounds(region, bindingOf(r), doms, an);
      const prev = out.get(region.buffer);
      out.set(region.buffer, prev ? prev.map((x, d) => unionBounds(x, b[d]!, an)) : b);
    }
  }
  for (const [buf, bs] of out) {
    out.set(
      buf,
      bs.map((b, d) =>
        clipBounds(
          b,
          { kind: "Range", min: intImm(0, buf.shape[d]!.dtype), extent: buf.shape[d]! },
          an,
        )
      ),
    );
  }
  return out;
}

/**
 * The domain of each iteration variable of `block` such that its accesses `provided` cover the
 * required bounds: an access `v`, `v + c` or (not for a consumer, which must not read beyond
 * what was produced) `v * c` in a dimension bounds `v`; variables no access bounds keep their
 * whole domain.
 */
function iterDomains(
  block: SBlock,
  provided: readonly BufferRegion[],
  required: ReadonlyMap<Buffer, Bounds[]>,
  an: Analyzer,
  head: string,
  reverse: boolean,
): Bounds[] {
  const ivs = new Set<Var>(block.iterVars.map((iv) => iv.var));
  const found = new Map<Var, Bounds>();
  let buf: Buffer | undefined;
  const push = (v: Var, b: Bounds) => {
    const prev = found.get(v);
    const same = prev && an.canProve(prev.lo.eq(b.lo)) && an.canProve(prev.hi.eq(b.hi));
    if (prev && reverse && !same) {
      throw new Error(
        `${head}: its reads of "${buf!.name}" need different domains of "${v.name}"`,
      );
    }
    found.set(v, prev ? unionBounds(prev, b, an) : b);
  };
  for (const p of provided) {
    buf = p.buffer;
    const req = required.get(p.buffer);
    if (!req) continue;
    p.region.forEach((rng, d) => {
      const q = req[d]!;
      const m = rng.min;
      const unit = rng.extent.kind === "IntImm" && rng.extent.value === 1;
      if (m.kind === "Var" && ivs.has(m) && unit) return push(m, q);
      if (m.kind === "Add" && m.a.kind === "Var" && ivs.has(m.a) && m.b.kind === "IntImm" && unit) {
        return push(m.a, { lo: an.simplify(sub(q.lo, m.b)), hi: an.simplify(sub(q.hi, m.b)) });
      }
      if (
        !reverse && m.kind === "Mul" && m.a.kind === "Var" && ivs.has(m.a) &&
        m.b.kind === "IntImm" &&
        m.b.value > 0
      ) {
        return push(m.a, {
          lo: an.simplify(floordiv(q.lo, m.b)),
          hi: an.simplify(floordiv(q.hi, m.b)),
        });
      }
      if (!usesVar(m, ivs) && !usesVar(rng.extent, ivs)) return;
      throw new Error(
        `${head}: cannot infer its iteration domain from its access to "${p.buffer.name}" in dimension ${d}`,
      );
    });
  }
  return block.iterVars.map((iv) => {
    const b = found.get(iv.var);
    if (b) return clipBounds(b, iv.dom, an);
    return { lo: iv.dom.min, hi: an.simplify(sub(add(iv.dom.min, iv.dom.extent), 1)) };
  });
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
  const req = requiredBounds(
    func,
    loop,
    reqUnder,
    new Set(provided.map((p) => p.buffer)),
    reverse,
    an,
  );
  const doms = iterDomains(block, provided, req, an, head, reverse);
  const axes: { v: Var; extent: PrimExpr }[] = [];
  const values: PrimExpr[] = doms.map((b, i) => {
    const r = boundsRange(b, an);
    if (!options.preserveUnitLoops && r.extent.kind === "IntImm" && r.extent.value === 1) {
      return r.min;
    }
    const ax = primVar(`ax${axes.length}`, block.iterVars[i]!.var.dtype);
    axes.push({ v: ax, extent: r.extent });
    return an.simplify(add(r.min, ax));
  });
  let nest: Stmt = sblockRealize(values, block);
  for (let i = axes.length - 1; i >= 0; i--) {
    nest = forLoop(axes[i]!.v, { min: 0, extent: axes[i]!.extent }, nest);
  }
  const newKids = [...kids];
  newKids.splice(pos, 0, nest);
  let body = replaceNode(func.body, loop, { ...loop, body: seq(...newKids) });
  body = removeNode(body, exclusiveTop(path));
  return { ...func, body };
}

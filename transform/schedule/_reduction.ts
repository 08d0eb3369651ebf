/**
 * Reduction primitives: `decomposeReduction` (split a reduction's init into its own block
 * before a loop) and `rfactor` (factor a reduction over one loop into partial results plus a
 * final reduction over them).
 *
 * @module
 */

import { elementDType, intRange, isFloat } from "../../ir/dtype.ts";
import {
  and,
  type ArithKind,
  binary,
  type Buffer,
  bufferLoad,
  constant,
  declBuffer,
  type PrimExpr,
  primVar,
  sub,
  type Var,
} from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import {
  type BufferRegion,
  bufferRegion,
  type BufferStore,
  bufferStore,
  type For,
  type IterVar,
  iterVar,
  type SBlock,
  type SBlockRealize,
  sblockRealize,
  type Stmt,
  TRUE,
} from "../../ir/tir/stmt.ts";
import { visitPrimExpr } from "../../ir/visit.ts";
import { exprEqual, simplify, substExpr, substStmt, usesVar } from "./_arith.ts";
import { getBlock } from "./_inline.ts";
import { describeLoop, getLoop } from "./_loops.ts";
import { substRegion } from "./_region.ts";
import { insertIntoScope, replaceWithSeq, scopeOf, uniqueBlockName } from "./_scope.ts";
import { allRealizes, exclusiveTop, loopsAbove, replaceNode } from "./_tree.ts";

/** The conjuncts of a predicate. */
function conjuncts(p: PrimExpr): PrimExpr[] {
  return p.kind === "And" ? [...conjuncts(p.a), ...conjuncts(p.b)] : [p];
}

/** The conjunction of the conjuncts of `p` that use none of `dropped` (true when none). */
function keepPredicate(p: PrimExpr, dropped: ReadonlySet<Var>, map: ReadonlyMap<Var, PrimExpr>) {
  const kept = conjuncts(p).filter((c) => !(c.kind === "IntImm" && c.value === 1))
    .filter((c) => !usesVar(c, dropped)).map((c) => substExpr(c, map));
  return kept.length ? kept.reduce((a, b) => and(a, b)) : TRUE;
}

function checkIterKinds(block: SBlock, head: string): void {
  const odd = block.iterVars.find((iv) => iv.iterKind !== "spatial" && iv.iterKind !== "reduce");
  if (odd) {
    throw new Error(
      `${head}: block "${block.name}" has ${odd.iterKind} iter var "${odd.var.name}"`,
    );
  }
}

/**
 * Moves the init of reduction block `name` into a new block `<name>_init` placed right before
 * loop `v`, under copies (`<loop>_init`) of the loops between `v` and the block that its
 * spatial iteration values use. Returns the new block's name.
 */
export function decomposeReduction(
  func: PrimFunc,
  name: string,
  v: Var,
): { func: PrimFunc; block: string } {
  const { path, realize } = getBlock(func, name);
  const { loop } = getLoop(func, v);
  const head = `Cannot decomposeReduction block "${name}" at loop "${v.name}"`;
  const block = realize.block;
  if (!block.init) throw new Error(`${head}: the block has no init (it is not a reduction)`);
  checkIterKinds(block, head);
  const loops = loopsAbove(path);
  const at = loops.indexOf(loop);
  if (at < 0) throw new Error(`${head}: the loop does not enclose the block`);
  const higher = new Set(loops.slice(0, at).map((l) => l.loopVar));
  block.iterVars.forEach((iv, i) => {
    const hit = realize.iterValues[i]!;
    if (iv.iterKind !== "reduce" || !usesVar(hit, higher)) return;
    const l = loops.slice(0, at).find((x) => usesVar(hit, x.loopVar))!;
    throw new Error(
      `${head}: loop "${l.loopVar.name}" above it carries reduction iter var "${iv.var.name}"`,
    );
  });
  const varMap = new Map<Var, PrimExpr>();
  const ivs: IterVar[] = [];
  const values: PrimExpr[] = [];
  block.iterVars.forEach((iv, i) => {
    if (iv.iterKind !== "spatial") return;
    const nv = primVar(iv.var.name, iv.var.dtype);
    varMap.set(iv.var, nv);
    ivs.push({ ...iv, var: nv });
    values.push(realize.iterValues[i]!);
  });
  const below = loops.slice(at);
  const chosen = below.filter((l) => values.some((x) => usesVar(x, l.loopVar)));
  const dropped = new Set(below.filter((l) => !chosen.includes(l)).map((l) => l.loopVar));
  const loopMap = new Map<Var, PrimExpr>(
    chosen.map((l) => [l.loopVar, primVar(`${l.loopVar.name}_init`, l.loopVar.dtype)]),
  );
  const initName = uniqueBlockName(func, `${name}_init`);
  const initBlock: SBlock = {
    ...block,
    name: initName,
    iterVars: ivs,
    reads: [],
    writes: block.writes.map((w) => substRegion(w, varMap)),
    init: undefined,
    allocBuffers: [],
    matchBuffers: [],
    body: substStmt(block.init, varMap),
  };
  let nest: Stmt = sblockRealize(
    values.map((x) => substExpr(x, loopMap)),
    initBlock,
    keepPredicate(realize.predicate, dropped, loopMap),
  );
  for (let i = chosen.length - 1; i >= 0; i--) {
    const l = chosen[i]!;
    nest = {
      ...l,
      loopVar: loopMap.get(l.loopVar) as Var,
      min: substExpr(l.min, loopMap),
      extent: substExpr(l.extent, loopMap),
      body: nest,
      annotations: {},
    };
  }
  const alreadyRead = new Set(block.reads.map((r) => r.buffer));
  const update: SBlock = {
    ...block,
    init: undefined,
    reads: [...block.writes.filter((w) => !alreadyRead.has(w.buffer)), ...block.reads],
  };
  const newLoop = replaceNode(loop, realize, { ...realize, block: update });
  return {
    func: { ...func, body: replaceWithSeq(func.body, loop, [nest, newLoop]) },
    block: initName,
  };
}

/** The reduction an update `W[idx] = W[idx] op rhs` performs. */
interface Reducer {
  readonly store: BufferStore;
  readonly op: ArithKind;
  /** Whether `W[idx]` is the left operand. */
  readonly accFirst: boolean;
  readonly rhs: PrimExpr;
}

const REDUCE_OPS: readonly ArithKind[] = ["Add", "Mul", "Min", "Max"];

function matchReducer(block: SBlock): Reducer | undefined {
  const s = block.body;
  if (s.kind !== "BufferStore") return undefined;
  const v = s.value;
  if (!REDUCE_OPS.includes(v.kind as ArithKind)) return undefined;
  const { a, b } = v as PrimExpr & { a: PrimExpr; b: PrimExpr };
  const isAcc = (e: PrimExpr) =>
    e.kind === "BufferLoad" && e.buffer === s.buffer &&
    e.indices.every((x, i) => exprEqual(x, s.indices[i]!));
  const loadsW = (e: PrimExpr) => {
    let found = false;
    visitPrimExpr(
      e,
      (x) => void (x.kind === "BufferLoad" && x.buffer === s.buffer && (found = true)),
    );
    return found;
  };
  if (isAcc(a) && !loadsW(b)) return { store: s, op: v.kind as ArithKind, accFirst: true, rhs: b };
  if (isAcc(b) && !loadsW(a)) return { store: s, op: v.kind as ArithKind, accFirst: false, rhs: a };
  return undefined;
}

/** The identity element of a reduction on `dtype`. */
function identity(op: ArithKind, dtype: Buffer["dtype"]): PrimExpr {
  const t = elementDType(dtype) as Buffer["dtype"];
  if (op === "Add") return constant(0, t);
  if (op === "Mul") return constant(1, t);
  const big = !isFloat(t)
    ? { min: Number(intRange(t).min), max: Number(intRange(t).max) }
    : t === "float16"
    ? { min: -65504, max: 65504 }
    : t === "float32"
    ? { min: -3.4028234663852886e38, max: 3.4028234663852886e38 }
    : { min: -Number.MAX_VALUE, max: Number.MAX_VALUE };
  return constant(op === "Min" ? big.max : big.min, t);
}

/**
 * Factors the reduction under loop `v` (which must hold one reduction block and carry only its
 * reduction iteration variables): a new block `<name>_rf` computes partial results into a new
 * buffer `<buffer>_rf` that has one more dimension (at `factorAxis`) indexed by `v`, turned into a
 * spatial iteration variable; the original block, under copies of its spatial loops and `v`,
 * then reduces the partial results. Returns the rf block's name.
 */
export function rfactor(
  func: PrimFunc,
  v: Var,
  factorAxis: number,
): { func: PrimFunc; block: string } {
  const { loop } = getLoop(func, v);
  const rs = allRealizes(loop.body);
  if (rs.length !== 1) {
    throw new Error(`Cannot rfactor loop "${v.name}": it contains ${rs.length} blocks, expected 1`);
  }
  const realize = rs[0]!;
  const block = realize.block;
  const name = block.name;
  const head = `Cannot rfactor ${describeLoop(loop)}`;
  if (!block.init) throw new Error(`${head}: the block has no init (it is not a reduction)`);
  checkIterKinds(block, head);
  const red = matchReducer(block);
  if (!red) {
    throw new Error(
      `${head}: its update is not a supported reduction (W[...] = W[...] op x with op +, *, min or max)`,
    );
  }
  const W = red.store.buffer;
  const init = block.init;
  if (
    init.kind !== "BufferStore" || init.buffer !== W ||
    !init.indices.every((x, i) => exprEqual(x, red.store.indices[i]!))
  ) {
    throw new Error(`${head}: its init does not store into "${W.name}" at the update's indices`);
  }
  const { path } = getBlock(func, name);
  if (!scopeOf(path)) throw new Error(`${head}: the block has no enclosing block`);
  const loops = loopsAbove(path);
  const top = exclusiveTop(path);
  const exclusive = loops.filter((l) => path.indexOf(l) >= path.indexOf(top));
  const carried = (l: For, kind: "spatial" | "reduce") =>
    block.iterVars.find((iv, i) =>
      iv.iterKind === kind && usesVar(realize.iterValues[i]!, l.loopVar)
    );
  if (!carried(loop, "reduce")) throw new Error(`${head}: it carries no reduction iter var`);
  const redLoops = loops.filter((l) => carried(l, "reduce"));
  for (const l of redLoops) {
    const sp = carried(l, "spatial");
    if (sp) {
      const what = l === loop ? "it" : `loop "${l.loopVar.name}"`;
      throw new Error(`${head}: ${what} also carries spatial iter var "${sp.var.name}"`);
    }
    if (!exclusive.includes(l)) {
      throw new Error(`${head}: reduction loop "${l.loopVar.name}" also encloses other blocks`);
    }
  }
  const ndim = W.shape.length;
  if (!Number.isInteger(factorAxis) || factorAxis < -(ndim + 1) || factorAxis > ndim) {
    throw new Error(`${head}: factor axis ${factorAxis} is out of range [${-(ndim + 1)}, ${ndim}]`);
  }
  const axis = factorAxis < 0 ? factorAxis + ndim + 1 : factorAxis;
  const withRf = <T>(xs: readonly T[], x: T): T[] => [...xs.slice(0, axis), x, ...xs.slice(axis)];
  const rfBuf = declBuffer(withRf(W.shape, loop.extent), W.dtype, `${W.name}_rf`, {
    scope: W.scope,
  });
  const point = (b: Buffer, idx: readonly PrimExpr[]): BufferRegion =>
    bufferRegion(b, idx.map((x) => ({ kind: "Range", min: x, extent: constant(1, x.dtype) })));
  const combine = (acc: PrimExpr, x: PrimExpr) =>
    red.accFirst ? binary(red.op, acc, x) : binary(red.op, x, acc);
  const rfIndex = (x: Var) => simplify(sub(x, loop.min));

  // The rf block: spatial iter vars kept, one iter var per reduction loop (spatial for `v`).
  const newIvs = redLoops.map((l) =>
    iterVar(
      primVar(`v${l.loopVar.name}`, l.loopVar.dtype),
      { kind: "Range", min: l.min, extent: l.extent },
      l === loop ? "spatial" : "reduce",
    )
  );
  const loopToIv = new Map<Var, PrimExpr>(redLoops.map((l, i) => [l.loopVar, newIvs[i]!.var]));
  const reduceMap = new Map<Var, PrimExpr>();
  const spatial: { iv: IterVar; value: PrimExpr }[] = [];
  block.iterVars.forEach((iv, i) => {
    const value = realize.iterValues[i]!;
    if (iv.iterKind === "reduce") reduceMap.set(iv.var, substExpr(value, loopToIv));
    else spatial.push({ iv, value });
  });
  const rfVar = newIvs[redLoops.indexOf(loop)]!.var;
  const idxRf = withRf(red.store.indices, rfIndex(rfVar));
  const rfName = uniqueBlockName(func, `${name}_rf`);
  const rfBlock: SBlock = {
    ...block,
    name: rfName,
    iterVars: [...spatial.map((s) => s.iv), ...newIvs],
    reads: [
      ...block.reads.filter((r) => r.buffer !== W).map((r) => substRegion(r, reduceMap)),
    ],
    writes: [point(rfBuf, idxRf)],
    init: bufferStore(rfBuf, identity(red.op, W.dtype), idxRf),
    body: bufferStore(
      rfBuf,
      combine(bufferLoad(rfBuf, idxRf), substExpr(red.rhs, reduceMap)),
      idxRf,
    ),
  };
  const rfRealize: SBlockRealize = {
    ...realize,
    iterValues: [...spatial.map((s) => s.value), ...redLoops.map((l) => l.loopVar)],
    block: rfBlock,
  };

  // The write-back block: the original name, reducing over the rf dimension.
  const wbLoops = exclusive.filter((l) => l === loop || carried(l, "spatial"));
  const loopMap = new Map<Var, PrimExpr>(
    wbLoops.map((l) => [l.loopVar, primVar(l.loopVar.name, l.loopVar.dtype)]),
  );
  const spMap = new Map<Var, PrimExpr>(
    spatial.map((s) => [s.iv.var, primVar(s.iv.var.name, s.iv.var.dtype)]),
  );
  const wbRf = iterVar(
    primVar(`v${v.name}`, v.dtype),
    { kind: "Range", min: loop.min, extent: loop.extent },
    "reduce",
  );
  const wbIdx = red.store.indices.map((x) => substExpr(x, spMap));
  const part = bufferLoad(rfBuf, withRf(wbIdx, rfIndex(wbRf.var)));
  const wbBlock: SBlock = {
    ...block,
    iterVars: [...spatial.map((s) => ({ ...s.iv, var: spMap.get(s.iv.var) as Var })), wbRf],
    reads: [point(rfBuf, withRf(wbIdx, rfIndex(wbRf.var)))],
    writes: block.writes.map((w) => substRegion(w, spMap)),
    init: substStmt(init, spMap),
    body: bufferStore(W, combine(bufferLoad(W, wbIdx), part), wbIdx),
    allocBuffers: [],
    matchBuffers: [],
  };
  const dropped = new Set(exclusive.filter((l) => !wbLoops.includes(l)).map((l) => l.loopVar));
  let wb: Stmt = sblockRealize(
    [...spatial.map((s) => substExpr(s.value, loopMap)), loopMap.get(v)!],
    wbBlock,
    keepPredicate(realize.predicate, dropped, loopMap),
  );
  for (let i = wbLoops.length - 1; i >= 0; i--) {
    const l = wbLoops[i]!;
    wb = {
      ...l,
      loopVar: loopMap.get(l.loopVar) as Var,
      min: substExpr(l.min, loopMap),
      extent: substExpr(l.extent, loopMap),
      body: wb,
    };
  }
  const newTop = replaceNode(top, realize, rfRealize);
  const f1: PrimFunc = { ...func, body: replaceWithSeq(func.body, top, [newTop, wb]) };
  const scope = scopeOf(getBlock(f1, rfName).path)!;
  return { func: insertIntoScope(f1, scope, 0, undefined, rfBuf), block: rfName };
}

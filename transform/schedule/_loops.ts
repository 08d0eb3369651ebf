/**
 * Loop transformations of the schedule: split, fuse, reorder, bind, add a unit loop. Each takes a
 * PrimFunc and returns a new one (the input is never changed).
 *
 * @module
 */

import {
  add,
  cast,
  constIntValue,
  floordiv,
  floormod,
  lt,
  mul,
  type PrimExpr,
  type PrimExprLike,
  primVar,
  type Range,
  range,
  toExpr,
  type Var,
} from "../../ir/expr.ts";
import { isInt } from "../../ir/dtype.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import {
  type For,
  forLoop,
  isThreadTag,
  type SBlockRealize,
  type Stmt,
  type ThreadTag,
} from "../../ir/tir/stmt.ts";
import { rewriteStmt } from "../../ir/visit.ts";
import {
  canProve,
  ceilDiv,
  proveEqual,
  simplify,
  substStmt,
  usesVar,
  type VarRanges,
} from "./_arith.ts";
import { allRealizes, blockPath, loopPath, replaceNode, topRealizes } from "./_tree.ts";

/** `loop "i" of block "C"` (or just `loop "i"` when no block is under it). */
export function describeLoop(loop: For): string {
  const b = topRealizes(loop.body)[0];
  return b
    ? `loop "${loop.loopVar.name}" of block "${b.block.name}"`
    : `loop "${loop.loopVar.name}"`;
}

/** The loop whose variable is `v`, with its path; throws when it is not in the function. */
export function getLoop(func: PrimFunc, v: Var): { loop: For; path: Stmt[] } {
  const path = loopPath(func.body, v);
  if (!path) {
    throw new Error(`Loop "${v.name}" is not in the function (it was replaced or removed)`);
  }
  return { loop: path[path.length - 1] as For, path };
}

/** The ranges of the loops on a path (for simplification). */
export function rangesOf(loops: readonly For[]): Map<Var, Range> {
  const m = new Map<Var, Range>();
  for (const l of loops) m.set(l.loopVar, { kind: "Range", min: l.min, extent: l.extent });
  return m;
}

/** Simplifies the iteration values (and predicates) of the top realizes under `s`. */
function simplifyRealizes(s: Stmt, ranges: VarRanges, extraPredicate?: PrimExpr): Stmt {
  return rewriteStmt(s, {
    preStmt: (x) => {
      if (x.kind !== "SBlockRealize") return undefined;
      const pred = extraPredicate ? x.predicate.and(extraPredicate) : x.predicate;
      const r: SBlockRealize = {
        ...x,
        iterValues: x.iterValues.map((v) => simplify(v, ranges)),
        predicate: simplify(pred, ranges),
      };
      return r;
    },
  });
}

function factorText(fs: readonly (PrimExpr | undefined)[]): string {
  return `[${fs.map((f) => (f === undefined ? "undefined" : exprText(f))).join(", ")}]`;
}

function exprText(e: PrimExpr): string {
  const c = constIntValue(e);
  if (c !== undefined) return String(c);
  return e.kind === "Var" ? e.name : "a symbolic value";
}

/**
 * Splits loop `v` into `factors.length` nested loops. At most one factor may be `undefined`
 * (inferred as the ceiling of extent / product of the others). When the product exceeds the
 * extent, blocks under the loop get the predicate `fused < extent`.
 */
export function split(
  func: PrimFunc,
  v: Var,
  factors: readonly (PrimExprLike | undefined)[],
): { func: PrimFunc; vars: Var[] } {
  const { loop, path } = getLoop(func, v);
  const what = describeLoop(loop);
  if (loop.forKind === "thread_binding") {
    throw new Error(`Cannot split ${what}: it is bound to ${loop.threadTag}`);
  }
  if (factors.length < 2) {
    throw new Error(`Cannot split ${what}: expected at least 2 factors, got ${factors.length}`);
  }
  const holes = factors.filter((f) => f === undefined).length;
  if (holes > 1) {
    throw new Error(`Cannot split ${what}: at most one factor may be undefined, got ${holes}`);
  }
  const given: (PrimExpr | undefined)[] = factors.map((f) => {
    if (f === undefined) return undefined;
    const e = typeof f === "object" ? f : toExpr(f);
    const bad = typeof f === "number"
      ? !Number.isInteger(f) || f <= 0
      : e.kind === "IntImm" && e.value <= 0;
    if (bad) {
      const text = typeof f === "number" ? String(f) : exprText(e);
      throw new Error(`Cannot split ${what}: factor ${text} is not a positive integer`);
    }
    if (!isInt(e.dtype)) {
      throw new Error(`Cannot split ${what}: factor of dtype ${e.dtype} is not an integer`);
    }
    return cast(e, v.dtype);
  });
  const ranges = rangesOf(path.filter((s): s is For => s.kind === "For"));
  const known = given.reduce<PrimExpr>((acc, f) => (f ? mul(acc, f) : acc), toExpr(1, v));
  const resolved = given.map((f) => f ?? simplify(ceilDiv(loop.extent, known), ranges));
  const total = holes ? mul(resolved[given.indexOf(undefined)]!, known) : known;
  if (!holes && !canProve(total.ge(loop.extent), ranges)) {
    const ext = exprText(loop.extent);
    throw new Error(
      `Cannot split ${what}: factors ${factorText(given)} multiply to ${exprText(total)}, ` +
        `less than its extent ${ext}`,
    );
  }
  const needPredicate = !proveEqual(total, loop.extent, ranges);
  const vars = resolved.map((_, i) => primVar(`${v.name}_${i}`, v.dtype));
  let fused: PrimExpr = toExpr(0, v);
  let stride: PrimExpr = toExpr(1, v);
  for (let i = vars.length - 1; i >= 0; i--) {
    fused = i === vars.length - 1 ? vars[i]! : add(mul(vars[i]!, stride), fused);
    stride = mul(stride, resolved[i]!);
  }
  for (let i = 0; i < vars.length; i++) ranges.set(vars[i]!, range(toExpr(0, v), resolved[i]!));
  let body = substStmt(loop.body, new Map([[v, add(loop.min, fused)]]));
  body = simplifyRealizes(body, ranges, needPredicate ? lt(fused, loop.extent) : undefined);
  for (let i = vars.length - 1; i >= 0; i--) {
    body = forLoop(vars[i]!, { min: toExpr(0, v), extent: resolved[i]! }, body);
  }
  return { func: { ...func, body: replaceNode(func.body, loop, body) }, vars };
}

/** Fuses consecutive, perfectly nested loops into one. */
export function fuse(func: PrimFunc, vs: readonly Var[]): { func: PrimFunc; var: Var } {
  if (vs.length === 0) throw new Error("Cannot fuse: expected at least one loop");
  const loops = vs.map((v) => getLoop(func, v));
  const names = vs.map((v) => `"${v.name}"`).join(", ");
  for (let i = 0; i < vs.length; i++) {
    if (vs.indexOf(vs[i]!) !== i) {
      throw new Error(`Cannot fuse loops ${names}: "${vs[i]!.name}" is given twice`);
    }
  }
  for (const { loop } of loops) {
    if (loop.forKind !== "serial") {
      const how = loop.forKind === "thread_binding" ? `bound to ${loop.threadTag}` : loop.forKind;
      throw new Error(`Cannot fuse ${describeLoop(loop)}: it is ${how}`);
    }
    if (loop.loopVar.dtype !== vs[0]!.dtype) {
      throw new Error(`Cannot fuse loops ${names}: their variables have different dtypes`);
    }
  }
  if (vs.length === 1) return { func, var: vs[0]! };
  for (let i = 0; i + 1 < loops.length; i++) {
    const outer = loops[i]!.loop, inner = loops[i + 1]!.loop;
    if (outer.body !== inner) {
      throw new Error(
        `Cannot fuse loops ${names}: "${inner.loopVar.name}" is not the only statement ` +
          `directly inside "${outer.loopVar.name}"`,
      );
    }
  }
  for (let i = 1; i < loops.length; i++) {
    const l = loops[i]!.loop;
    for (let j = 0; j < i; j++) {
      if (usesVar(l.extent, vs[j]!) || usesVar(l.min, vs[j]!)) {
        throw new Error(
          `Cannot fuse loops ${names}: the range of "${l.loopVar.name}" depends on "${
            vs[j]!.name
          }"`,
        );
      }
    }
  }
  const first = loops[0]!;
  const fusedVar = primVar(vs.map((v) => v.name).join("_") + "_fused", vs[0]!.dtype);
  const extents = loops.map((l) => l.loop.extent);
  const map = new Map<Var, PrimExpr>();
  let suffix: PrimExpr = toExpr(1, fusedVar);
  for (let i = loops.length - 1; i >= 0; i--) {
    const l = loops[i]!.loop;
    let value: PrimExpr;
    if (i === loops.length - 1) value = floormod(fusedVar, extents[i]!);
    else if (i === 0) value = floordiv(fusedVar, suffix);
    else value = floordiv(floormod(fusedVar, mul(extents[i]!, suffix)), suffix);
    map.set(l.loopVar, add(l.min, value));
    suffix = mul(suffix, extents[i]!);
  }
  const ranges = rangesOf(first.path.filter((s): s is For => s.kind === "For"));
  const extent = simplify(extents.reduce((a, b) => mul(a, b)), ranges);
  ranges.set(fusedVar, range(toExpr(0, fusedVar), extent));
  const body = simplifyRealizes(substStmt(loops[loops.length - 1]!.loop.body, map), ranges);
  const fusedLoop = forLoop(fusedVar, { min: toExpr(0, fusedVar), extent }, body);
  return { func: { ...func, body: replaceNode(func.body, first.loop, fusedLoop) }, var: fusedVar };
}

/**
 * Reorders loops of one perfectly nested chain: the given loops take, in the given order, the
 * positions they occupied; loops of the chain not given stay where they are.
 */
export function reorder(func: PrimFunc, vs: readonly Var[]): PrimFunc {
  const names = vs.map((v) => `"${v.name}"`).join(", ");
  for (let i = 0; i < vs.length; i++) {
    if (vs.indexOf(vs[i]!) !== i) {
      throw new Error(`Cannot reorder loops ${names}: "${vs[i]!.name}" is given twice`);
    }
  }
  if (vs.length < 2) return func;
  const found = vs.map((v) => getLoop(func, v));
  const deepest = found.reduce((a, b) => (b.path.length > a.path.length ? b : a));
  for (const f of found) {
    if (!deepest.path.includes(f.loop)) {
      const [a, b] = found.indexOf(f) < found.indexOf(deepest) ? [f, deepest] : [deepest, f];
      throw new Error(
        `Cannot reorder loops ${names}: "${a.loop.loopVar.name}" and "${b.loop.loopVar.name}" ` +
          `are not in the same loop nest`,
      );
    }
  }
  const top = Math.min(...found.map((f) => f.path.length - 1));
  const chain = deepest.path.slice(top);
  for (let i = 0; i + 1 < chain.length; i++) {
    const s = chain[i]!, next = chain[i + 1]!;
    if (s.kind === "For" && next.kind === "SeqStmt") {
      throw new Error(
        `Cannot reorder loops ${names}: loop "${s.loopVar.name}" has more than one statement in its body`,
      );
    }
    if (s.kind !== "For" || next.kind !== "For") {
      throw new Error(
        `Cannot reorder loops ${names}: a ${(s.kind === "For" ? next : s).kind} separates them`,
      );
    }
  }
  const loops = chain as For[];
  const given = new Set<For>(found.map((f) => f.loop));
  let k = 0;
  const order = loops.map((l) => (given.has(l) ? found[k++]!.loop : l));
  for (let i = 0; i < order.length; i++) {
    for (let j = i + 1; j < order.length; j++) {
      const outer = order[i]!, inner = order[j]!;
      if (usesVar(outer.extent, inner.loopVar) || usesVar(outer.min, inner.loopVar)) {
        throw new Error(
          `Cannot reorder loops ${names}: the range of "${outer.loopVar.name}" depends on "${inner.loopVar.name}"`,
        );
      }
    }
  }
  let body: Stmt = loops[loops.length - 1]!.body;
  for (let i = order.length - 1; i >= 0; i--) body = { ...order[i]!, body };
  return { ...func, body: replaceNode(func.body, loops[0]!, body) };
}

/** Binds loop `v` to a GPU thread axis. */
export function bind(func: PrimFunc, v: Var, tag: string): PrimFunc {
  const { loop } = getLoop(func, v);
  if (!isThreadTag(tag)) {
    throw new Error(
      `Cannot bind loop "${v.name}" to "${tag}": not a thread axis (e.g. "blockIdx.x")`,
    );
  }
  const what = describeLoop(loop);
  if (loop.forKind !== "serial") {
    const how = loop.forKind === "thread_binding"
      ? `already bound to ${loop.threadTag}`
      : loop.forKind;
    throw new Error(`Cannot bind ${what} to ${tag}: it is ${how}`);
  }
  if (constIntValue(loop.min) !== 0) {
    throw new Error(`Cannot bind ${what} to ${tag}: it does not start at 0`);
  }
  for (const r of allRealizes(loop.body)) {
    r.block.iterVars.forEach((iv, i) => {
      if (iv.iterKind === "spatial" || !usesVar(r.iterValues[i]!, v)) return;
      const head = `Cannot bind loop "${v.name}" of block "${r.block.name}" to ${tag}`;
      if (iv.iterKind === "reduce") {
        const why = tag.startsWith("threadIdx")
          ? " (cross-thread reduction is not supported yet)"
          : "";
        throw new Error(`${head}: it carries reduction iter var "${iv.var.name}"${why}`);
      }
      throw new Error(`${head}: it carries ${iv.iterKind} iter var "${iv.var.name}"`);
    });
  }
  const bound: For = { ...loop, forKind: "thread_binding", threadTag: tag as ThreadTag };
  return { ...func, body: replaceNode(func.body, loop, bound) };
}

/** Wraps a block (by name) or a loop (by variable) in a new loop of extent 1. */
export function addUnitLoop(func: PrimFunc, target: string | Var): { func: PrimFunc; var: Var } {
  let node: Stmt;
  if (typeof target === "string") {
    const path = blockPath(func.body, target);
    if (!path) throw new Error(`Block "${target}" is not in the function`);
    node = path[path.length - 1]!;
    if (path.length === 1) {
      throw new Error(`Cannot add a unit loop above the root block "${target}"`);
    }
  } else {
    node = getLoop(func, target).loop;
  }
  const u = primVar("u", "int32");
  const loop = forLoop(u, { min: 0, extent: 1 }, node);
  return { func: { ...func, body: replaceNode(func.body, node, loop) }, var: u };
}

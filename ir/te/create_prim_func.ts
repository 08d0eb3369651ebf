/**
 * `createPrimFunc`: turns te tensors into a TIR PrimFunc in the block form TVM's
 * `te.create_prim_func` produces: a root block allocating the intermediate tensors, then per
 * compute a loop nest over its axes around one block (`T.axis.spatial/reduce` iteration
 * variables, reads/writes regions, `T.init()` for reductions).
 *
 * @example
 * ```ts
 * const f = createPrimFunc([A, B, C]);   // C = matmul of A and B
 * ```
 *
 * @module
 */

import {
  type Buffer,
  bufferLoad,
  declBuffer,
  intImm,
  type PrimExpr,
  primVar,
  type Range,
  type Var,
} from "../expr.ts";
import { type PrimFunc, primFuncRaw } from "../tir/prim_func.ts";
import {
  bufferStore,
  forLoop,
  ifThenElse,
  type IterVar,
  letStmt,
  sblock,
  sblockRealize,
  seq,
  type Stmt,
} from "../tir/stmt.ts";
import { rewritePrimExpr, visitPrimExpr, visitStmt } from "../visit.ts";
import { blockAccessRegions } from "../tir/block_access.ts";
import { isReduce, type Reduce } from "./reduce.ts";
import { type ComputeOp, isTensor, type Operation, type Tensor } from "./tensor.ts";

/** Options of {@link createPrimFunc}. */
export interface CreatePrimFuncOptions {
  /** The `global_symbol` attribute; `"main"` by default. */
  readonly name?: string;
}

/** Gives unique names: the first use of a name keeps it, later ones get `_1`, `_2`, ... */
class NameSupply {
  readonly #used = new Set<string>();
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.#used.has(name); i++) name = `${base}_${i}`;
    this.#used.add(name);
    return name;
  }
}

/** What one function being built knows. */
interface Ctx {
  readonly buffers: Map<Tensor, Buffer>;
  /** te tensor buffer -> function buffer */
  readonly bufferMap: Map<Buffer, Buffer>;
  readonly blockNames: NameSupply;
}

/** Replaces variables by `map` and te buffers by the function's buffers. */
function remap(e: PrimExpr, map: ReadonlyMap<Var, PrimExpr>, ctx: Ctx): PrimExpr {
  return rewritePrimExpr(e, {
    preExpr: (x) => (x.kind === "Var" ? map.get(x) : undefined),
    buffer: (b) => ctx.bufferMap.get(b) ?? b,
  });
}

function remapRange(r: Range, map: ReadonlyMap<Var, PrimExpr>, ctx: Ctx): Range {
  return { kind: "Range", min: remap(r.min, map, ctx), extent: remap(r.extent, map, ctx) };
}

function varsOf(e: PrimExpr): Var[] {
  const out: Var[] = [];
  visitPrimExpr(e, (x) => {
    if (x.kind === "Var" && !out.includes(x)) out.push(x);
  });
  return out;
}

/** Post-order over the ops the arguments depend on (inputs before their readers). */
function orderOps(tensors: readonly Tensor[]): Operation[] {
  const order: Operation[] = [];
  const seen = new Set<Operation>();
  const visit = (op: Operation) => {
    if (seen.has(op)) return;
    seen.add(op);
    if (op.kind === "te.ComputeOp") { for (const t of op.inputs) visit(t.op); }
    order.push(op);
  };
  for (const t of tensors) visit(t.op);
  return order;
}

/** One nesting level of a compute: its loops and the block iteration variables bound there. */
interface Scope {
  readonly loops: { readonly v: Var; readonly dom: Range }[];
  readonly iters: IterVar[];
  readonly bindings: PrimExpr[];
  readonly storeIndices: PrimExpr[];
  /** te axis variable -> block variable of this level */
  readonly axisMap: Map<Var, PrimExpr>;
}

/** Nesting depth of each axis: 0 when its domain uses no other axis, else 1 + theirs. */
function axisDepths(axes: readonly IterVar[]): Map<Var, number> {
  const byVar = new Map(axes.map((a) => [a.var, a]));
  const depth = new Map<Var, number>();
  const visiting = new Set<Var>();
  const get = (a: IterVar): number => {
    const known = depth.get(a.var);
    if (known !== undefined) return known;
    if (visiting.has(a.var)) {
      throw new Error(`Axis "${a.var.name}" has a domain that depends on itself`);
    }
    visiting.add(a.var);
    let d = 0;
    for (const v of [...varsOf(a.dom.min), ...varsOf(a.dom.extent)]) {
      const dep = byVar.get(v);
      if (dep) d = Math.max(d, get(dep) + 1);
    }
    depth.set(a.var, d);
    return d;
  };
  for (const a of axes) get(a);
  return depth;
}

function makeScopes(op: ComputeOp, ctx: Ctx): Scope[] {
  const axes = [...op.axes, ...op.reduceAxes];
  const depth = axisDepths(axes);
  const levels = Math.max(0, ...depth.values()) + 1;
  const scopes: Scope[] = [];
  for (let l = 0; l < levels; l++) {
    const prev = scopes[l - 1];
    const s: Scope = { loops: [], iters: [], bindings: [], storeIndices: [], axisMap: new Map() };
    for (const a of axes) {
      const d = depth.get(a.var)!;
      if (d > l) continue;
      const t = a.var.dtype;
      const bv = primVar(`v_${a.var.name}`, t);
      let dom: Range, binding: PrimExpr;
      if (d === l) {
        const lv = primVar(a.var.name, t);
        dom = prev ? remapRange(a.dom, prev.axisMap, ctx) : remapRange(a.dom, new Map(), ctx);
        s.loops.push({ v: lv, dom });
        binding = lv;
      } else {
        binding = prev!.axisMap.get(a.var)!;
        dom = { kind: "Range", min: binding, extent: intImm(1, t) };
      }
      s.iters.push({ kind: "IterVar", var: bv, dom, iterKind: a.iterKind });
      s.bindings.push(binding);
      if (a.iterKind !== "reduce") s.storeIndices.push(bv);
      s.axisMap.set(a.var, bv);
    }
    if (l === levels - 1 && s.iters.length === 0) {
      // a block needs at least one iteration variable
      s.iters.push({
        kind: "IterVar",
        var: primVar("vi", "int32"),
        dom: { kind: "Range", min: intImm(0), extent: intImm(1) },
        iterKind: "spatial",
      });
      s.bindings.push(intImm(0));
    }
    scopes.push(s);
  }
  return scopes;
}

/** Fresh copies of a scope's block variables (each block defines its own). */
function renew(s: Scope, op: ComputeOp): Scope {
  const fresh = new Map<PrimExpr, Var>();
  const iters = s.iters.map((iv) => {
    const v = primVar(iv.var.name, iv.var.dtype);
    fresh.set(iv.var, v);
    return { ...iv, var: v };
  });
  const axisMap = new Map<Var, PrimExpr>();
  for (const a of [...op.axes, ...op.reduceAxes]) {
    const old = s.axisMap.get(a.var);
    if (old) axisMap.set(a.var, fresh.get(old) ?? old);
  }
  return {
    ...s,
    iters,
    storeIndices: s.storeIndices.map((e) => fresh.get(e) ?? e),
    axisMap,
  };
}

function initStmt(r: Reduce, bufs: readonly Buffer[], s: Scope, ctx: Ctx): Stmt {
  const values = r.init ?? r.combiner.identity;
  return seq(
    ...bufs.map((b, i) => bufferStore(b, remap(values[i]!, s.axisMap, ctx), s.storeIndices)),
  );
}

function reduceBody(r: Reduce, bufs: readonly Buffer[], s: Scope, ctx: Ctx): Stmt {
  const { lhs, rhs, result } = r.combiner;
  const map = new Map(s.axisMap);
  bufs.forEach((b, i) => {
    map.set(lhs[i]!, bufferLoad(b, s.storeIndices));
    map.set(rhs[i]!, remap(r.source[i]!, s.axisMap, ctx));
  });
  const combined = result.map((e) => remap(e, map, ctx));
  let body: Stmt;
  if (bufs.length === 1) {
    body = bufferStore(bufs[0]!, combined[0]!, s.storeIndices);
  } else {
    const temps = bufs.map((b) => primVar(`v_${b.name}`, b.dtype));
    body = seq(...bufs.map((b, i) => bufferStore(b, temps[i]!, s.storeIndices)));
    for (let i = bufs.length - 1; i >= 0; i--) body = letStmt(temps[i]!, combined[i]!, body);
  }
  const cond = remap(r.condition, s.axisMap, ctx);
  if (!(cond.kind === "IntImm" && cond.value === 1)) body = ifThenElse(cond, body);
  return body;
}

function makeBlock(
  name: string,
  s: Scope,
  body: Stmt,
  init: Stmt | undefined,
  op: ComputeOp,
): Stmt {
  const { reads, writes } = blockAccessRegions(init, body);
  const block = sblock(name, body, {
    iterVars: s.iters,
    reads,
    writes,
    ...(init ? { init } : {}),
    annotations: op.attrs,
  });
  return sblockRealize(s.bindings, block);
}

function computeStmt(op: ComputeOp, ctx: Ctx): Stmt {
  const scopes = makeScopes(op, ctx);
  const leaf = scopes[scopes.length - 1]!;
  const bufs = op.outputs.map((t) => ctx.buffers.get(t)!);
  const first = op.body[0]!;
  const reduce = isReduce(first) ? first : undefined;
  let body: Stmt;
  if (reduce) {
    const init = initStmt(reduce, bufs, leaf, ctx);
    body = makeBlock(
      ctx.blockNames.fresh(op.name),
      leaf,
      reduceBody(reduce, bufs, leaf, ctx),
      init,
      op,
    );
  } else {
    const blocks: Stmt[] = [];
    let s = leaf;
    (op.body as readonly PrimExpr[]).forEach((e, i) => {
      if (i > 0) s = renew(leaf, op);
      const store = bufferStore(bufs[i]!, remap(e, s.axisMap, ctx), s.storeIndices);
      blocks.push(makeBlock(ctx.blockNames.fresh(op.outputs[i]!.name), s, store, undefined, op));
    });
    body = seq(...blocks);
  }
  for (let l = scopes.length - 1; l >= 0; l--) {
    const s = scopes[l]!;
    if (l < scopes.length - 1) {
      const hasReduce = s.iters.some((iv) => iv.iterKind === "reduce");
      const init = reduce && hasReduce ? initStmt(reduce, bufs, s, ctx) : undefined;
      body = makeBlock(ctx.blockNames.fresh(`${op.name}_l${l + 1}`), s, body, init, op);
    }
    for (let j = s.loops.length - 1; j >= 0; j--) {
      const { v, dom } = s.loops[j]!;
      body = forLoop(v, dom, body);
    }
  }
  return body;
}

/**
 * Builds a PrimFunc from te tensors (and scalar `Var`s) given in parameter order: placeholders
 * and the outputs to return. Every compute the outputs depend on becomes a block; computed
 * tensors not listed are allocated in the root block. Attributes: `global_symbol` and
 * `tir.noalias`.
 *
 * @example
 * ```ts
 * const f = createPrimFunc([A, rowSum], { name: "row_sum" });
 * ```
 */
export function createPrimFunc(
  args: readonly (Tensor | Var)[],
  options: CreatePrimFuncOptions = {},
): PrimFunc {
  const fname = options.name ?? "main";
  const what = `Cannot create PrimFunc "${fname}"`;
  const tensors: Tensor[] = [];
  const scalars = new Set<Var>();
  for (const a of args) {
    if (isTensor(a)) {
      if (tensors.includes(a)) throw new Error(`${what}: tensor "${a.name}" is listed twice`);
      tensors.push(a);
    } else if (typeof a === "object" && a !== null && a.kind === "Var") {
      if (scalars.has(a)) throw new Error(`${what}: variable "${a.name}" is listed twice`);
      scalars.add(a);
    } else {
      throw new Error(`${what}: arguments must be te tensors or variables`);
    }
  }
  const order = orderOps(tensors);
  const bufferNames = new NameSupply();
  const ctx: Ctx = { buffers: new Map(), bufferMap: new Map(), blockNames: new NameSupply() };
  const addBuffer = (t: Tensor) => {
    if (ctx.buffers.has(t)) return;
    const b = declBuffer(t.shape, t.dtype, bufferNames.fresh(t.name));
    ctx.buffers.set(t, b);
    ctx.bufferMap.set(t.buffer, b);
  };
  tensors.forEach(addBuffer);
  const rootAlloc: Buffer[] = [];
  const stmts: Stmt[] = [];
  for (const op of order) {
    if (op.kind === "te.PlaceholderOp") {
      if (!tensors.some((t) => t.op === op)) {
        throw new Error(`${what}: placeholder "${op.name}" is read but not an argument`);
      }
      continue;
    }
    for (const t of op.outputs) {
      if (!ctx.buffers.has(t)) {
        addBuffer(t);
        rootAlloc.push(ctx.buffers.get(t)!);
      }
    }
    stmts.push(computeStmt(op, ctx));
  }
  const root = sblock("root", seq(...stmts), { allocBuffers: rootAlloc });
  const body = sblockRealize([], root);
  const params: Var[] = [];
  const bufferMap = new Map<Var, Buffer>();
  for (const a of args) {
    if (isTensor(a)) {
      const b = ctx.buffers.get(a)!;
      const h = primVar(`var_${b.name}`, "handle");
      params.push(h);
      bufferMap.set(h, b);
    } else {
      params.push(a);
    }
  }
  checkDefined(what, body, [...scalars], [...bufferMap.values()], rootAlloc);
  return primFuncRaw(params, bufferMap, body, {
    attrs: { global_symbol: fname, "tir.noalias": true },
  });
}

/** Fails when a variable used in the function is neither a parameter nor defined in it. */
function checkDefined(
  what: string,
  body: Stmt,
  scalars: readonly Var[],
  argBuffers: readonly Buffer[],
  allocs: readonly Buffer[],
): void {
  const defined = new Set<Var>(scalars);
  for (const b of argBuffers) for (const d of b.shape) for (const v of varsOf(d)) defined.add(v);
  const used: Var[] = [];
  const use = (e: PrimExpr) => {
    for (const v of varsOf(e)) if (!used.includes(v)) used.push(v);
  };
  for (const b of allocs) b.shape.forEach(use);
  visitStmt(body, {
    stmt: (s) => {
      if (s.kind === "For") defined.add(s.loopVar);
      const block = s.kind === "SBlockRealize" ? s.block : s.kind === "SBlock" ? s : undefined;
      for (const iv of block?.iterVars ?? []) defined.add(iv.var);
      if (s.kind === "LetStmt") defined.add(s.var);
    },
    expr: (e) => {
      if (e.kind === "Var" && !used.includes(e)) used.push(e);
    },
  });
  for (const v of used) {
    if (!defined.has(v)) {
      throw new Error(
        `${what}: variable "${v.name}" is used but not defined; pass it as an argument or use it in an argument's shape`,
      );
    }
  }
}

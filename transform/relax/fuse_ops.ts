/**
 * `FuseOps`: groups the bindings of each dataflow block by TVM's fusion rules and moves every
 * group of two or more bindings into a new private Relax function with the `Primitive`
 * attribute, called from where the group was. `FuseTIR` then merges each such function into
 * one PrimFunc.
 *
 * The pattern of a `call_tir` is the `"op_pattern"` attribute of its PrimFunc (set by
 * `AnnotateTIROpPattern`; a PrimFunc without it is opaque); other calls are opaque. The
 * partition follows post-dominators (see `_dominator.ts`): elementwise and broadcast nodes fuse
 * forward into injective, reduction or out-elemwise-fusable consumers, a matmul takes its
 * elementwise epilogue, injective chains fuse together, and a reduction takes its injective
 * producers.
 *
 * @example
 * ```ts
 * const fused = sequential([annotateTIROpPattern(), fuseOps(), fuseTIR()])(legalized);
 * ```
 *
 * @module
 */

import { structuralEqual } from "../../ir/structural.ts";
import { freshGlobalName, type IRModule, relaxFunctions, withFunction } from "../../ir/module.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  dataflowVar,
  type Expr,
  type Function,
  type GlobalVar,
  globalVar,
  rcall,
  tupleGetItem,
  varBinding,
} from "../../ir/relax/expr.ts";
import { tupleSInfo } from "../../ir/relax/struct_info.ts";
import { modulePass, type Pass } from "../pass.ts";
import { findRoot, type Group, partitionGraph } from "./_dominator.ts";
import { FunctionCreator } from "./_fuse_function.ts";
import { createGraph, isFusibleFunction, OPAQUE } from "./_graph.ts";
import { usedVars } from "./_relax_util.ts";

/** Options of {@link fuseOps}. */
export interface FuseOpsOptions {
  /** The fusion level; 0 disables fusion (default 2, any other value fuses). */
  readonly fuseOptLevel?: number;
  /**
   * The most operators one fused function may hold; by default the pass context's
   * `"relax.FuseOps.max_depth"` setting, else 256.
   */
  readonly maxDepth?: number;
}

/** The default limit on the size of a fused group (TVM's kMaxFusedOps). */
export const DEFAULT_MAX_FUSE_DEPTH = 256;

/** Adds fused functions to the module, reusing a structurally equal one already added. */
class FunctionAdder {
  readonly #added: [string, Function][] = [];

  constructor(public mod: IRModule) {
    for (const [name, f] of relaxFunctions(mod)) {
      if (!isFusibleFunction(f)) this.#added.push([name, f]);
    }
  }

  add(f: Function, hint: string): GlobalVar {
    const same = this.#added.find(([, g]) => structuralEqual(f, g));
    if (same) return globalVar(same[0], same[1].structInfo);
    const name = freshGlobalName(this.mod, hint);
    this.mod = withFunction(this.mod, name, f);
    this.#added.push([name, f]);
    return globalVar(name, f.structInfo);
  }
}

class Fusor {
  constructor(
    readonly groupOf: ReadonlyMap<object, Group>,
    readonly adder: FunctionAdder,
  ) {}

  readonly #singles = new Map<object, Group>();

  /** The group of a variable; a variable outside the graph is a group of its own. */
  #group(v: object): Group {
    const g = this.groupOf.get(v);
    if (g) return findRoot(g);
    let s = this.#singles.get(v);
    if (!s) {
      s = {
        parent: undefined,
        pattern: OPAQUE,
        rootRef: v,
        anchorRef: undefined,
        numNodes: 1,
        attrs: {},
      };
      this.#singles.set(v, s);
    }
    return s;
  }

  function(f: Function): Function {
    const body = f.body;
    if (body.kind !== "relax.SeqExpr") return f;
    const outer = new Map<AnyVar, Expr>();
    for (const block of body.blocks) for (const b of block.bindings) outer.set(b.var, b.value);
    let changed = false;
    const blocks = body.blocks.map((b) => {
      if (b.kind !== "DataflowBlock") return b;
      const nb = this.#block(b, outer);
      if (nb !== b) changed = true;
      return nb;
    });
    return changed ? { ...f, body: { ...body, blocks } } : f;
  }

  #block(block: BindingBlock, outer: ReadonlyMap<AnyVar, Expr>): BindingBlock {
    const isSingle = (g: Group) => g.numNodes === 1 && Object.keys(g.attrs).length === 0;
    // Step 1: the bindings of each group of two or more.
    const creators = new Map<Group, FunctionCreator>();
    for (const b of block.bindings) {
      const g = this.#group(b.var);
      if (isSingle(g)) continue;
      let c = creators.get(g);
      if (!c) creators.set(g, c = new FunctionCreator(outer));
      c.append(b);
    }
    if (creators.size === 0) return block;
    // Step 2: each group's results (values used by other groups) and the dependencies.
    const deps = new Map<Group, Group[]>();
    for (const b of block.bindings) {
      const cur = this.#group(b.var);
      for (const v of usedVars(b.value)) {
        if (!this.groupOf.has(v)) continue;
        const producer = this.#group(v);
        if (producer === cur) continue;
        const list = deps.get(cur) ?? [];
        if (!list.includes(producer)) list.push(producer);
        deps.set(cur, list);
        creators.get(producer)?.appendOutput(v);
      }
    }
    // Step 3: the functions.
    for (const [g, c] of creators) c.create(g.attrs);
    // Step 4: the new block, in an order where each group follows the groups it uses.
    const out: Binding[] = [];
    const pending = new Map<Group, AnyVar[]>();
    for (const b of this.#sorted(block.bindings, deps)) {
      const g = this.#group(b.var);
      const c = creators.get(g);
      if (!c) {
        out.push(b);
        continue;
      }
      if (!c.func) continue; // a dead group
      if (c.outputs.length > 1 && c.outputs.includes(b.var)) {
        const list = pending.get(g) ?? [];
        list.push(b.var);
        pending.set(g, list);
      }
      if (c.bindings[c.bindings.length - 1] !== b) continue;
      const gv = this.adder.add(c.func, c.name);
      const args = c.args.map((a) => {
        if (a.kind !== "relax.TupleGetItem") return a;
        const v = dataflowVar("lv", a.structInfo);
        out.push(varBinding(v, a));
        return v;
      });
      if (c.outputs.length === 1) {
        const v = c.outputs[0]!;
        out.push(varBinding(v, rcall(gv, args, { structInfo: v.structInfo })));
        continue;
      }
      const sinfo = tupleSInfo(c.outputs.map((v) => v.structInfo));
      const lv = dataflowVar("lv", sinfo);
      out.push(varBinding(lv, rcall(gv, args, { structInfo: sinfo })));
      const order = pending.get(g) ?? [];
      for (const v of [...order, ...c.outputs.filter((v) => !order.includes(v))]) {
        out.push(varBinding(v, tupleGetItem(lv, c.outputs.indexOf(v))));
      }
    }
    return { ...block, bindings: out };
  }

  /** The bindings ordered so that each group comes after the groups it depends on. */
  #sorted(bindings: readonly Binding[], deps: ReadonlyMap<Group, Group[]>): Binding[] {
    const perGroup = new Map<Group, Binding[]>();
    const order: Group[] = [];
    for (const b of bindings) {
      const g = this.#group(b.var);
      order.push(g);
      const list = perGroup.get(g) ?? [];
      list.push(b);
      perGroup.set(g, list);
    }
    const visited = new Set<Group>();
    const sorted: Binding[] = [];
    const visit = (g: Group) => {
      if (visited.has(g)) return;
      visited.add(g);
      for (const d of deps.get(g) ?? []) visit(d);
      sorted.push(...perGroup.get(g) ?? []);
    };
    order.forEach(visit);
    return sorted;
  }
}

/** Runs the fusion on a module (see {@link fuseOps}). */
export function fuseModule(mod: IRModule, options: Required<FuseOpsOptions>): IRModule {
  if (!Number.isInteger(options.maxDepth) || options.maxDepth < 1) {
    throw new Error(`FuseOps: maxDepth must be a positive integer, got ${options.maxDepth}`);
  }
  const entries = relaxFunctions(mod).filter(([, f]) => isFusibleFunction(f));
  if (entries.length === 0) return mod;
  const graph = createGraph(mod, entries.map(([, f]) => f));
  const groups = partitionGraph(graph, {
    optLevel: options.fuseOptLevel,
    maxDepth: options.maxDepth,
  });
  const groupOf = new Map<object, Group>();
  graph.postDfsOrder.forEach((n, i) => groupOf.set(n.ref, groups[i]!));
  const adder = new FunctionAdder(mod);
  const fusor = new Fusor(groupOf, adder);
  const updates: [string, Function][] = [];
  for (const [name, f] of entries) {
    const g = fusor.function(f);
    if (g !== f) updates.push([name, g]);
  }
  let out = adder.mod;
  for (const [name, g] of updates) out = withFunction(out, name, g);
  return out;
}

/**
 * The `FuseOps` pass (see the module documentation). Returns the module itself when no group of
 * two or more bindings forms.
 */
export function fuseOps(options: FuseOpsOptions = {}): Pass {
  return modulePass("FuseOps", (mod, ctx) => {
    const configured = ctx.config["relax.FuseOps.max_depth"];
    return fuseModule(mod, {
      fuseOptLevel: options.fuseOptLevel ?? 2,
      maxDepth: options.maxDepth ??
        (typeof configured === "number" ? configured : DEFAULT_MAX_FUSE_DEPTH),
    });
  });
}

/**
 * Grouped functions for `FuseOpsByPattern` and `MergeCompositeFunctions` (TVM's
 * `MakeGroupedFunctions`): given a partition of the bindings of dataflow blocks into groups,
 * moves each group that has attributes (or two or more bindings) into a new private function
 * (built by `FunctionCreator`) and calls it where the group's last binding was.
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
import { usedVars } from "../../ir/relax/dpl/match.ts";
import type { Attrs } from "../../ir/tir/stmt.ts";
import { FunctionCreator, isCallTIR } from "./_fuse_function.ts";

/** A set of bindings to move into one function (a union-find node). */
export interface PatternGroup {
  /** The parent in the union-find; `undefined` for a root. */
  parent: PatternGroup | undefined;
  /** The number of bindings (valid at a root). */
  numNodes: number;
  /** Attributes of the function made from the group (`Composite`, `Codegen`). */
  attrs: Attrs;
}

/** A new group of one binding. */
export function newGroup(attrs: Attrs = {}): PatternGroup {
  return { parent: undefined, numNodes: 1, attrs };
}

/** The root of `g`'s set. */
export function rootOf(g: PatternGroup): PatternGroup {
  let r = g;
  while (r.parent) r = r.parent;
  return r;
}

/** Merges the set of `from` into the set of `to`. */
export function mergeGroups(from: PatternGroup, to: PatternGroup): void {
  const a = rootOf(from), b = rootOf(to);
  if (a === b) return;
  a.parent = b;
  b.numNodes += a.numNodes;
}

/** TVM's name for a grouped function: `fused_` and the callees, dots as underscores. */
function groupName(bindings: readonly Binding[]): string {
  let name = "fused";
  for (const b of bindings) {
    const v = b.value;
    if (b.kind !== "VarBinding" || v.kind !== "relax.Call") continue;
    if (isCallTIR(v)) {
      const f = v.args[0];
      name += "_" + (f?.kind === "GlobalVar" ? f.name : "call_tir");
    } else if (v.op.kind === "relax.Op") name += "_" + v.op.name;
    else if (v.op.kind === "GlobalVar") name += "_" + v.op.name.replace(/^fused_/, "");
  }
  return name.replaceAll(".", "_");
}

/** Adds functions to a module, reusing a structurally equal one when there is one. */
export class DedupAdder {
  /** The module with the functions added so far. */
  mod: IRModule;
  readonly #known: [string, Function][];

  /** An adder for `mod`, which knows `mod`'s Relax functions. */
  constructor(mod: IRModule) {
    this.mod = mod;
    this.#known = relaxFunctions(mod);
  }

  /** Adds `f` under a fresh name based on `hint` (or returns an equal function's GlobalVar). */
  add(f: Function, hint: string): GlobalVar {
    const same = this.#known.find(([, g]) => structuralEqual(f, g));
    if (same) return globalVar(same[0], same[1].structInfo);
    const name = freshGlobalName(this.mod, hint);
    this.mod = withFunction(this.mod, name, f);
    this.#known.push([name, f]);
    return globalVar(name, f.structInfo);
  }
}

type Key = PatternGroup | AnyVar;

function regroupBlock(
  block: BindingBlock,
  groupOf: ReadonlyMap<AnyVar, PatternGroup>,
  outer: ReadonlyMap<AnyVar, Expr>,
  adder: DedupAdder,
  liftConstants: boolean,
  who: string,
): BindingBlock {
  const keyOf = (v: AnyVar): Key => {
    const g = groupOf.get(v);
    return g ? rootOf(g) : v;
  };
  const isFunc = (k: Key): k is PatternGroup =>
    "numNodes" in k && (k.numNodes > 1 || Object.keys(k.attrs).length > 0);
  const defined = new Set(block.bindings.map((b) => b.var));
  const creators = new Map<PatternGroup, FunctionCreator>();
  for (const b of block.bindings) {
    const k = keyOf(b.var);
    if (!isFunc(k)) continue;
    let c = creators.get(k);
    if (!c) creators.set(k, c = new FunctionCreator(outer, liftConstants));
    c.append(b);
  }
  if (creators.size === 0) return block;
  const deps = new Map<Key, Key[]>();
  for (const b of block.bindings) {
    const cur = keyOf(b.var);
    for (const v of usedVars(b.value)) {
      if (!defined.has(v)) continue;
      const producer = keyOf(v);
      if (producer === cur) continue;
      if (deps.get(producer)?.includes(cur)) {
        throw new Error(
          `${who}: a cyclic dependency between the groups of "${b.var.name}" and "${v.name}"`,
        );
      }
      const list = deps.get(cur) ?? [];
      if (!list.includes(producer)) list.push(producer);
      deps.set(cur, list);
      if (isFunc(producer)) creators.get(producer)?.appendOutput(v);
    }
  }
  for (const [g, c] of creators) {
    c.name = groupName(c.bindings);
    c.create(g.attrs);
  }
  // Emit in an order where each group follows the groups it uses.
  const perKey = new Map<Key, Binding[]>();
  for (const b of block.bindings) {
    const k = keyOf(b.var);
    perKey.set(k, [...perKey.get(k) ?? [], b]);
  }
  const sorted: Binding[] = [];
  const visited = new Set<Key>();
  const visit = (k: Key) => {
    if (visited.has(k)) return;
    visited.add(k);
    for (const d of deps.get(k) ?? []) visit(d);
    sorted.push(...perKey.get(k) ?? []);
  };
  block.bindings.forEach((b) => visit(keyOf(b.var)));
  const out: Binding[] = [];
  for (const b of sorted) {
    const k = keyOf(b.var);
    const c = isFunc(k) ? creators.get(k) : undefined;
    if (!c) {
      out.push(b);
      continue;
    }
    if (!c.func || c.bindings[c.bindings.length - 1] !== b) continue;
    const gv = adder.add(c.func, c.name);
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
    const inOrder = c.bindings.map((x) => x.var).filter((v) => c.outputs.includes(v));
    for (const v of [...inOrder, ...c.outputs.filter((v) => !inOrder.includes(v))]) {
      out.push(varBinding(v, tupleGetItem(lv, c.outputs.indexOf(v))));
    }
  }
  return { ...block, bindings: out };
}

/**
 * Moves each group of `groupOf` (in the dataflow blocks of the functions named `entries`) into a
 * new private function with the group's attributes and `Primitive`, named after its callees
 * (`fused_relax_nn_conv2d_relax_nn_relu`). Constants become parameters when `liftConstants`.
 */
export function makeGroupedFunctions(
  mod: IRModule,
  entries: readonly string[],
  groupOf: ReadonlyMap<AnyVar, PatternGroup>,
  options: { readonly liftConstants: boolean; readonly who: string },
): IRModule {
  const adder = new DedupAdder(mod);
  const updates: [string, Function][] = [];
  for (const name of entries) {
    const f = mod.functions.get(name);
    if (f?.kind !== "relax.Function" || f.body.kind !== "relax.SeqExpr") continue;
    const body = f.body;
    const outer = new Map<AnyVar, Expr>();
    for (const block of body.blocks) for (const b of block.bindings) outer.set(b.var, b.value);
    let changed = false;
    const blocks = body.blocks.map((b) => {
      if (b.kind !== "DataflowBlock") return b;
      const nb = regroupBlock(b, groupOf, outer, adder, options.liftConstants, options.who);
      if (nb !== b) changed = true;
      return nb;
    });
    if (changed) updates.push([name, { ...f, body: { ...body, blocks } }]);
  }
  let out = adder.mod;
  for (const [name, g] of updates) out = withFunction(out, name, g);
  return out;
}

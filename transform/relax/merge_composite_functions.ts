/**
 * `MergeCompositeFunctions`: groups the calls of composite functions (made by `FuseOpsByPattern`)
 * that go to the same codegen and feed each other into one function per group, for an external
 * code generator, as TVM does.
 *
 * In `main`, a composite call joins the group of an argument produced by the same codegen unless
 * that would create a cycle (another argument's group depending on that group); calls of other
 * codegens and plain operators stay outside. Each group becomes a public function named
 * `fused_<composite names>_<codegen>` with attributes `Codegen` and `global_symbol`, whose body
 * (without dataflow blocks) binds each composite function it calls locally and calls it; the
 * composite functions no longer used are removed. Tuples built only to be taken apart again
 * (`t = (a, b); t[0]`) join the group of their fields.
 *
 * @module
 */

import { type IRModule, relaxFunctions, withFunction, without } from "../../ir/module.ts";
import {
  type AnyVar,
  type Binding,
  type Expr,
  type Function,
  type GlobalVar,
  globalVar,
  isVar,
  rvar,
  varBinding,
} from "../../ir/relax/expr.ts";
import { usedVars } from "../../ir/relax/dpl/match.ts";
import { rewriteExpr, rewriteFunction } from "../../ir/visit.ts";
import { modulePass, type Pass } from "../pass.ts";
import { codegenName } from "./fuse_ops_by_pattern.ts";
import { isExternalFunction, removeUnusedFunctions } from "./dead_code_elimination.ts";
import { toNonDataflowFunction } from "./to_non_dataflow.ts";
import {
  makeGroupedFunctions,
  mergeGroups,
  newGroup,
  type PatternGroup,
  rootOf,
} from "./_pattern_groups.ts";

const WHO = "MergeCompositeFunctions";

/** Assigns a group to each binding of `f` (TVM's CompositeGroupsBuilder). */
class GroupsBuilder {
  readonly memo = new Map<Expr, PatternGroup>();
  readonly #deps = new Map<PatternGroup, Set<PatternGroup>>();
  readonly #users = new Map<AnyVar, AnyVar[]>();
  readonly #valueVars = new Map<Expr, AnyVar[]>();
  readonly #bound = new Map<AnyVar, Expr>();
  readonly #outputs: Set<AnyVar>;
  readonly #mod: IRModule;

  constructor(mod: IRModule, f: Function) {
    this.#mod = mod;
    const seq = f.body.kind === "relax.SeqExpr" ? f.body : undefined;
    this.#outputs = usedVars(seq ? seq.body : f.body);
    for (const p of f.params) this.memo.set(p, newGroup());
    for (const b of seq?.blocks.flatMap((x) => x.bindings) ?? []) {
      this.#bound.set(b.var, b.value);
      this.#valueVars.set(b.value, [...this.#valueVars.get(b.value) ?? [], b.var]);
      for (const u of usedVars(b.value)) this.#users.set(u, [...this.#users.get(u) ?? [], b.var]);
    }
    for (const b of seq?.blocks.flatMap((x) => x.bindings) ?? []) {
      this.memo.set(b.var, b.kind === "VarBinding" ? this.#visit(b.value) : newGroup());
    }
  }

  #codegenOfCallee(callee: Expr): string | undefined {
    if (callee.kind !== "GlobalVar") return undefined;
    const f = this.#mod.functions.get(callee.name);
    const c = f?.kind === "relax.Function" ? f.attrs["Composite"] : undefined;
    return typeof c === "string" ? codegenName(c, WHO) : undefined;
  }

  #codegen(g: PatternGroup): string | undefined {
    const c = rootOf(g).attrs["Codegen"];
    return typeof c === "string" ? c : undefined;
  }

  #ensure(e: Expr): void {
    if (e.kind !== "GlobalVar" && !this.memo.has(e)) this.memo.set(e, this.#visit(e));
  }

  #deps_(g: PatternGroup): Set<PatternGroup> {
    const r = rootOf(g);
    let s = this.#deps.get(r);
    if (!s) this.#deps.set(r, s = new Set());
    return s;
  }

  #merge(from: PatternGroup, to: PatternGroup): void {
    const a = rootOf(from), b = rootOf(to);
    if (a === b) return;
    mergeGroups(a, b);
    const moved = this.#deps.get(a) ?? new Set();
    this.#deps.delete(a);
    for (const d of moved) this.#deps_(b).add(d);
    for (const s of this.#deps.values()) {
      if (s.delete(a)) s.add(b);
    }
    this.#deps_(b).delete(b);
  }

  #updateDeps(g: PatternGroup, args: readonly Expr[]): void {
    const r = rootOf(g);
    const visit = (e: Expr) => {
      if (e.kind === "GlobalVar") return;
      if (e.kind === "relax.Tuple") return e.fields.forEach(visit);
      const ag = this.memo.get(e);
      if (!ag) return;
      const ar = rootOf(ag);
      if (ar === r) return;
      this.#deps_(r).add(ar);
      for (const d of this.#deps_(ar)) this.#deps_(r).add(d);
    };
    args.forEach(visit);
  }

  #isFlatTensorTuple(e: Expr): boolean {
    const s = e.structInfo;
    return s.kind === "TupleStructInfo" && s.fields.length > 0 &&
      s.fields.every((f) => f.kind === "TensorStructInfo");
  }

  #onlyTupleGetItemUsers(e: Expr): boolean {
    const vs = isVar(e) ? [e] : this.#valueVars.get(e) ?? [];
    if (vs.length !== 1) return false;
    const pending = [vs[0]!];
    const seen = new Set<AnyVar>();
    let found = false;
    while (pending.length) {
      const cur = pending.pop()!;
      if (seen.has(cur)) continue;
      seen.add(cur);
      if (this.#outputs.has(cur)) return false;
      for (const user of this.#users.get(cur) ?? []) {
        const v = this.#bound.get(user);
        if (v?.kind === "relax.TupleGetItem" && v.tuple === cur) found = true;
        else if (v === cur) pending.push(user);
        else return false;
      }
    }
    return found;
  }

  #visit(e: Expr): PatternGroup {
    switch (e.kind) {
      case "relax.Call": {
        e.args.forEach((a) => this.#ensure(a));
        const codegen = this.#codegenOfCallee(e.op);
        const toMerge: PatternGroup[] = [];
        if (codegen !== undefined) {
          const parentDeps = new Set<PatternGroup>();
          for (const a of e.args) {
            const g = a.kind === "GlobalVar" ? undefined : this.memo.get(a);
            if (g) { for (const d of this.#deps_(g)) parentDeps.add(d); }
          }
          for (const a of e.args) {
            const g = a.kind === "GlobalVar" ? undefined : this.memo.get(a);
            if (g && this.#codegen(g) === codegen && !parentDeps.has(rootOf(g))) toMerge.push(g);
          }
        }
        let group: PatternGroup;
        if (toMerge.length === 0) {
          group = newGroup(codegen === undefined ? {} : { Codegen: codegen });
        } else {
          group = rootOf(toMerge[0]!);
          group.numNodes += 1;
          for (const g of toMerge.slice(1)) this.#merge(g, group);
          group = rootOf(group);
        }
        this.#updateDeps(group, e.args);
        return group;
      }
      case "relax.Tuple": {
        if (!this.#isFlatTensorTuple(e)) return newGroup();
        e.fields.forEach((f) => this.#ensure(f));
        if (this.#onlyTupleGetItemUsers(e)) {
          const roots = new Set(e.fields.map((f) => this.memo.get(f) && rootOf(this.memo.get(f)!)));
          const [only] = roots;
          if (roots.size === 1 && only && this.#codegen(only) !== undefined) {
            only.numNodes += 1;
            return only;
          }
        }
        const g = newGroup();
        this.#updateDeps(g, e.fields);
        return g;
      }
      case "relax.TupleGetItem": {
        if (!this.#isFlatTensorTuple(e.tuple)) return newGroup();
        this.#ensure(e.tuple);
        const tg = this.memo.get(e.tuple);
        if (tg && this.#onlyTupleGetItemUsers(e.tuple) && this.#codegen(tg) !== undefined) {
          const r = rootOf(tg);
          r.numNodes += 1;
          return r;
        }
        const g = newGroup();
        this.#updateDeps(g, [e.tuple]);
        return g;
      }
      case "relax.Var":
      case "relax.DataflowVar":
        return this.memo.get(e) ?? newGroup();
      default:
        return newGroup();
    }
  }
}

/** `f` with fresh variables (parameters and bindings). */
function copyWithNewVars(f: Function): Function {
  const map = new Map<AnyVar, AnyVar>();
  const fresh = <V extends AnyVar>(v: V): V => {
    const n = { ...v };
    map.set(v, n);
    return n;
  };
  const params = f.params.map(fresh);
  const body = rewriteExpr(f.body, {
    binding: (b) => ({ ...b, var: fresh(b.var) }),
    expr: (e) => (isVar(e) ? map.get(e) : undefined),
  });
  return { ...f, params, body };
}

/** The merged function for an external codegen: composite callees bound locally and called. */
function inlineComposites(mod: IRModule, f: Function): Function {
  const local = new Map<string, AnyVar>();
  const g = toNonDataflowFunction(f);
  return rewriteFunction(g, {
    binding: (b) => {
      const v = b.value;
      if (v.kind !== "relax.Call" || v.op.kind !== "GlobalVar") return undefined;
      const cf = mod.functions.get(v.op.name);
      if (cf?.kind !== "relax.Function" || cf.attrs["Composite"] === undefined) return undefined;
      const out: Binding[] = [];
      let lv = local.get(v.op.name);
      if (!lv) {
        const { Primitive: _, ...attrs } = cf.attrs;
        const copy: Function = { ...copyWithNewVars(cf), attrs, isPrivate: true };
        lv = rvar(v.op.name, copy.structInfo);
        local.set(v.op.name, lv);
        out.push(varBinding(lv, copy));
      }
      out.push({ ...b, value: { ...v, op: lv } });
      return out;
    },
  });
}

/** Runs the merge on `entry` of a module (see {@link mergeCompositeFunctions}). */
export function mergeCompositeFunctionsModule(mod: IRModule, entry = "main"): IRModule {
  const f = mod.functions.get(entry);
  if (f?.kind !== "relax.Function") {
    throw new Error(`${WHO}: the module has no Relax function "${entry}"`);
  }
  const builder = new GroupsBuilder(mod, f);
  const groupOf = new Map<AnyVar, PatternGroup>();
  for (const [e, g] of builder.memo) if (isVar(e)) groupOf.set(e, g);
  const grouped = makeGroupedFunctions(mod, [entry], groupOf, { liftConstants: true, who: WHO });
  if (grouped === mod) return mod;
  // Rename each codegen function `<name>_<codegen>` and inline its composite callees.
  let out = grouped;
  const renamed = new Map<string, GlobalVar>();
  const main = rewriteFunction(grouped.functions.get(entry) as Function, {
    expr: (e) => {
      if (e.kind !== "relax.Call" || e.op.kind !== "GlobalVar") return undefined;
      const cf = grouped.functions.get(e.op.name);
      const codegen = cf?.kind === "relax.Function" ? cf.attrs["Codegen"] : undefined;
      if (cf?.kind !== "relax.Function" || typeof codegen !== "string") return undefined;
      let gv = renamed.get(e.op.name);
      if (!gv) {
        const name = `${e.op.name}_${codegen}`;
        const { Primitive: _, ...attrs } = cf.attrs;
        const nf: Function = {
          ...inlineComposites(grouped, cf),
          attrs: { ...attrs, global_symbol: name },
          isPrivate: false,
        };
        out = withFunction(without(out, e.op.name), name, nf);
        gv = globalVar(name, nf.structInfo);
        renamed.set(e.op.name, gv);
      }
      return { ...e, op: gv };
    },
  });
  out = withFunction(out, entry, main);
  const keep = new Set([entry]);
  for (const [n, g] of out.functions) if (isExternalFunction(g)) keep.add(n);
  const composites = relaxFunctions(out).filter(([, g]) => g.attrs["Composite"] !== undefined);
  const pruned = removeUnusedFunctions(out, keep);
  // Only composite functions are dropped; anything else unreachable stays.
  const dropped = composites.map(([n]) => n).filter((n) => !pruned.functions.has(n));
  return without(out, ...dropped);
}

/** The `MergeCompositeFunctions` pass (see the module documentation). */
export function mergeCompositeFunctions(options: { readonly entry?: string } = {}): Pass {
  return modulePass(WHO, (mod) => mergeCompositeFunctionsModule(mod, options.entry ?? "main"));
}

/**
 * `CanonicalizeBindings`: removes trivial bindings and the variables they introduce.
 *
 * - `y = x` (a variable, a field of a known tuple, a rebuilt copy of a known tuple, or a
 *   `match_cast` that changes nothing): uses of `y` become uses of `x` and the binding goes.
 *   When `x` is a dataflow variable and `y` is used after its dataflow block, `x`'s binding
 *   is made to define `y` instead, so no dataflow variable escapes its block.
 * - A non-dataflow variable defined in a dataflow block and used only there becomes a
 *   dataflow variable.
 * - Uses of a variable bound to a constant become the constant.
 * - `lv = value; gv = R.match_cast(lv, ...)` in a dataflow block binds `gv` to `value` directly.
 * - A `match_cast` at the top level of a function whose new symbolic variables equal known
 *   values (`o = m`) is resolved: the variables are replaced everywhere, which usually makes
 *   the `match_cast` trivial.
 *
 * Blocks left empty are removed. Values are not re-inferred.
 *
 * @module
 */

import { simplify } from "../../ir/arith/analyzer.ts";
import { displayNode } from "../../ir/display.ts";
import { type PrimExpr, sub, type Var } from "../../ir/expr.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  type Constant,
  dataflowVar,
  type Expr,
  type Function,
  isVar,
  type SeqExpr,
} from "../../ir/relax/expr.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import { structuralEqual } from "../../ir/structural.ts";
import { rewriteExpr, visitExpr } from "../../ir/visit.ts";
import { type Pass, relaxFunctionPass } from "../pass.ts";
import { substituteFunction, usedVars } from "./_relax_util.ts";

// ---------------------------------------------------------------------------------------------
// symbolic variables defined by match_cast

function inferSymbolic(pattern: StructInfo, value: StructInfo, out: Map<Var, PrimExpr>): void {
  const dims = (ps: readonly PrimExpr[] | undefined, vs: readonly PrimExpr[] | undefined) => {
    if (!ps || !vs || ps.length !== vs.length) return;
    ps.forEach((p, i) => {
      if (p.kind === "Var" && p !== vs[i]) out.set(p, vs[i]!);
    });
  };
  if (pattern.kind === "TensorStructInfo" && value.kind === "TensorStructInfo") {
    dims(pattern.shape, value.shape);
  } else if (pattern.kind === "ShapeStructInfo" && value.kind === "ShapeStructInfo") {
    dims(pattern.values, value.values);
  } else if (pattern.kind === "PrimStructInfo" && value.kind === "PrimStructInfo") {
    dims(pattern.value && [pattern.value], value.value && [value.value]);
  } else if (pattern.kind === "TupleStructInfo" && value.kind === "TupleStructInfo") {
    pattern.fields.forEach((p, i) => value.fields[i] && inferSymbolic(p, value.fields[i]!, out));
  }
}

/** Replaces symbolic variables that top-level match_casts bind to known values. */
function canonicalizeSymbolic(f: Function): Function {
  const body = f.body;
  if (body.kind !== "relax.SeqExpr") return f;
  const known = new Map<Var, { value: PrimExpr; source: AnyVar }>();
  for (const block of body.blocks) {
    for (const b of block.bindings) {
      if (b.kind !== "MatchCast") continue;
      const found = new Map<Var, PrimExpr>();
      inferSymbolic(b.structInfo, b.value.structInfo, found);
      for (const [v, value] of found) {
        const prev = known.get(v);
        if (!prev) {
          known.set(v, { value, source: b.var });
          continue;
        }
        const diff = simplify(sub(prev.value, value));
        if (diff.kind === "IntImm" && diff.value !== 0) {
          throw new Error(
            `CanonicalizeBindings: match_cast statements must be consistent, but "${prev.source.name}" implies ${v.name} = ${
              displayNode(prev.value)
            } while "${b.var.name}" implies ${v.name} = ${displayNode(value)}`,
          );
        }
      }
    }
  }
  if (known.size === 0) return f;
  // Resolve chains (o = m where m is itself known).
  const prims = new Map<Var, PrimExpr>();
  for (const [v, { value }] of known) {
    let x = value;
    for (let i = 0; x.kind === "Var" && known.has(x) && i < known.size; i++) {
      x = known.get(x)!.value;
    }
    prims.set(v, x);
  }
  return substituteFunction(f, { prims });
}

// ---------------------------------------------------------------------------------------------
// the plan

interface Plan {
  readonly replaceUsage: Map<AnyVar, AnyVar>;
  readonly replaceBinding: Map<AnyVar, AnyVar>;
  readonly remove: Set<AnyVar>;
  readonly inlineConstant: Map<AnyVar, Constant>;
}

function freeVars(f: Function): AnyVar[] {
  const defined = new Set<AnyVar>(f.params);
  visitExpr(f.body, (e) => {
    if (e.kind === "relax.SeqExpr") {
      e.blocks.forEach((b) => b.bindings.forEach((x) => defined.add(x.var)));
    }
    if (e.kind === "relax.Function") e.params.forEach((p) => defined.add(p));
  });
  return usedVars(f.body).filter((v) => !defined.has(v));
}

class Planner {
  #block: BindingBlock | undefined;
  readonly #defBlocks = new Map<AnyVar, BindingBlock>();
  readonly #trivial = new Map<AnyVar, AnyVar>();
  readonly #known = new Map<AnyVar, Expr>();
  readonly #constants = new Map<AnyVar, Constant>();
  readonly #definedInDataflow: AnyVar[] = [];
  readonly #usedOutsideHome = new Set<AnyVar>();

  plan(f: Function): Plan {
    this.#function(f);
    const p: Plan = {
      replaceUsage: new Map(),
      replaceBinding: new Map(),
      remove: new Set(),
      inlineConstant: this.#constants,
    };
    for (const v of this.#definedInDataflow) {
      if (v.kind !== "relax.DataflowVar" && !this.#usedOutsideHome.has(v)) {
        const nv = dataflowVar(v.name, v.structInfo);
        p.replaceBinding.set(v, nv);
        p.replaceUsage.set(v, nv);
      }
    }
    for (const [bound, target] of this.#trivial) {
      let to = target;
      for (let x = this.#trivial.get(to); x; x = this.#trivial.get(to)) to = x;
      for (let x = p.replaceBinding.get(to); x; x = p.replaceBinding.get(to)) to = x;
      if (
        bound.kind === "relax.DataflowVar" || to.kind !== "relax.DataflowVar" ||
        !this.#usedOutsideHome.has(bound)
      ) {
        // x = y, where replacing x by y keeps every use legal.
        p.replaceUsage.set(bound, to);
      } else {
        // gv = lv with gv used after the block: lv's binding defines gv instead.
        p.replaceBinding.set(to, bound);
        p.replaceUsage.set(to, bound);
      }
      p.remove.add(bound);
    }
    return p;
  }

  #function(f: Function): void {
    const saved = this.#block;
    this.#block = undefined;
    for (const v of freeVars(f)) this.#usedOutsideHome.add(v);
    this.#expr(f.body);
    this.#block = saved;
  }

  #seq(e: SeqExpr): void {
    const saved = this.#block;
    for (const block of e.blocks) {
      this.#block = block;
      for (const b of block.bindings) this.#binding(b);
    }
    this.#block = undefined;
    this.#expr(e.body);
    this.#block = saved;
  }

  #insideDataflow(): boolean {
    return this.#block?.kind === "DataflowBlock";
  }

  #unwrapVar(e: Expr): Expr {
    for (let i = 0; isVar(e) && this.#known.has(e) && i < 1000; i++) e = this.#known.get(e)!;
    return e;
  }

  #unwrapKnown(e: Expr): Expr | undefined {
    // t[i] of a known tuple is its field.
    if (e.kind === "relax.TupleGetItem") {
      const t = this.#unwrapVar(e.tuple);
      if (t.kind === "relax.Tuple") return t.fields[e.index];
    }
    // (t[0], t[1], ...) covering all of t is t.
    if (e.kind === "relax.Tuple" && e.fields.length > 0) {
      const first = this.#unwrapVar(e.fields[0]!);
      if (first.kind !== "relax.TupleGetItem") return undefined;
      const s = first.tuple.structInfo;
      if (s.kind !== "TupleStructInfo" || s.fields.length !== e.fields.length) return undefined;
      const earlier = this.#unwrapVar(first.tuple);
      const ok = e.fields.every((x, i) => {
        const el = this.#unwrapVar(x);
        return el.kind === "relax.TupleGetItem" && el.index === i &&
          this.#unwrapVar(el.tuple) === earlier;
      });
      return ok ? earlier : undefined;
    }
    return undefined;
  }

  #binding(b: Binding): void {
    const sameInfo = b.kind === "VarBinding" ||
      structuralEqual(b.var.structInfo, b.value.structInfo);
    const value = this.#unwrapKnown(b.value) ?? b.value;
    if (isVar(value) && sameInfo) this.#trivial.set(b.var, value);
    if (value.kind === "relax.Constant") this.#constants.set(b.var, value);
    this.#known.set(b.var, value);
    this.#defBlocks.set(b.var, this.#block!);
    this.#expr(b.value);
    if (this.#insideDataflow()) this.#definedInDataflow.push(b.var);
  }

  #expr(e: Expr): void {
    visitExpr(e, (x) => {
      if (x.kind === "relax.SeqExpr") {
        this.#seq(x);
        return false;
      }
      if (x.kind === "relax.Function") {
        this.#function(x);
        return false;
      }
      if (isVar(x)) {
        const home = this.#defBlocks.get(x);
        if (!this.#insideDataflow() || (home && this.#block && this.#block !== home)) {
          this.#usedOutsideHome.add(x);
        }
      }
      return true;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// applying the plan

/** `lv = value; gv = lv` (or a match_cast of `lv`) in a dataflow block: bind `gv` to `value`. */
function foldOutputs(block: BindingBlock): BindingBlock {
  const disqualified = new Set<AnyVar>();
  const outputs = new Set<AnyVar>();
  const candidates = new Map<AnyVar, Expr>();
  const disqualifyDataflowVars = (e: Expr) =>
    usedVars(e).forEach((v) => v.kind === "relax.DataflowVar" && disqualified.add(v));
  for (let i = block.bindings.length - 1; i >= 0; i--) {
    const b = block.bindings[i]!;
    if (b.var.kind === "relax.DataflowVar") {
      disqualifyDataflowVars(b.value);
      if (!disqualified.has(b.var) && outputs.has(b.var)) candidates.set(b.var, b.value);
    } else if (b.value.kind === "relax.DataflowVar") {
      if (outputs.has(b.value)) disqualified.add(b.value);
      outputs.add(b.value);
    } else {
      disqualifyDataflowVars(b.value);
    }
  }
  if (candidates.size === 0) return block;
  const bindings: Binding[] = [];
  for (const b of block.bindings) {
    if (b.var.kind === "relax.DataflowVar" && candidates.has(b.var)) continue;
    const v = b.value;
    if (b.var.kind !== "relax.DataflowVar" && v.kind === "relax.DataflowVar" && candidates.has(v)) {
      bindings.push({ ...b, value: candidates.get(v)! });
    } else {
      bindings.push(b);
    }
  }
  return { ...block, bindings };
}

function applyPlan(f: Function, p: Plan): Function {
  const original = new Set<BindingBlock>();
  visitExpr(f.body, (e) => {
    if (e.kind === "relax.SeqExpr") e.blocks.forEach((b) => original.add(b));
  });
  const follow = (m: ReadonlyMap<AnyVar, AnyVar>, v: AnyVar) => {
    for (let i = 0, x = m.get(v); x && i < 1000; i++, x = m.get(v)) v = x;
    return v;
  };
  const body = rewriteExpr(f.body, {
    preExpr: (e) => {
      if (!isVar(e)) return undefined;
      const v = follow(p.replaceUsage, e);
      const c = p.inlineConstant.get(v);
      if (c) return c;
      return v === e ? undefined : v;
    },
    binding: (b) => {
      if (p.remove.has(b.var)) return [];
      const v = follow(p.replaceBinding, b.var);
      return v === b.var ? undefined : { ...b, var: v };
    },
    expr: (e) => {
      if (e.kind !== "relax.SeqExpr") return undefined;
      let changed = false;
      const blocks = e.blocks.flatMap((b) => {
        const nb = b.kind === "DataflowBlock" ? foldOutputs(b) : b;
        if (nb.bindings.length === 0 && !original.has(nb)) {
          changed = true;
          return [];
        }
        if (nb !== b) changed = true;
        return [nb];
      });
      return changed ? { ...e, blocks } : undefined;
    },
  });
  return body === f.body ? f : { ...f, body };
}

/** Canonicalizes the bindings of one function (see {@link canonicalizeBindings}). */
export function canonicalizeFunction(f: Function): Function {
  const g = canonicalizeSymbolic(f);
  return applyPlan(g, new Planner().plan(g));
}

/**
 * The `CanonicalizeBindings` pass (see the module documentation). Returns the module itself
 * when no function changes.
 */
export function canonicalizeBindings(): Pass {
  return relaxFunctionPass("CanonicalizeBindings", (f) => canonicalizeFunction(f));
}

/**
 * Builds the Relax function of one fused group (TVM's FunctionCreator): the group's bindings in
 * a dataflow block, values defined outside the group as parameters (a tuple read only through
 * `tuple[i]` becomes one parameter per field read), the values used after the group as results,
 * symbolic variables renewed, and the `Primitive` attribute set.
 *
 * @module
 */

import type { PrimExpr, Var } from "../../ir/expr.ts";
import { primVar, sizeVar } from "../../ir/expr.ts";
import {
  type AnyVar,
  type Binding,
  dataflowBlock,
  dataflowVar,
  type Expr,
  type Function,
  isVar,
  matchCast,
  relaxFunction,
  type RVar,
  rvar,
  seqExpr,
  shapeExpr,
  tuple,
  tupleGetItem,
  varBinding,
} from "../../ir/relax/expr.ts";
import { shapeSInfo, type StructInfo } from "../../ir/relax/struct_info.ts";
import { shortName } from "../../ir/relax/op/registry.ts";
import type { Attrs } from "../../ir/tir/stmt.ts";
import { rewriteExpr, visitPrimExpr } from "../../ir/visit.ts";
import { sinfoVars, substituteFunction } from "./_relax_util.ts";

function hasVars(e: PrimExpr): boolean {
  let found = false;
  visitPrimExpr(e, (x) => {
    if (x.kind === "Var") found = true;
    return !found;
  });
  return found;
}

/** A shape or prim value with no variables (or a tuple of them): kept inline, not a parameter. */
function isInlinableConstant(e: Expr): boolean {
  switch (e.kind) {
    case "relax.Tuple":
      return e.fields.every(isInlinableConstant);
    case "relax.PrimValue":
      return !hasVars(e.value);
    case "relax.ShapeExpr":
      return !e.values.some(hasVars);
    default:
      return false;
  }
}

/** Whether `e` is a `call_tir`. */
export function isCallTIR(e: Expr): boolean {
  return e.kind === "relax.Call" && e.op.kind === "relax.Op" && e.op.name === "relax.call_tir";
}

/** Symbolic variables a StructInfo defines (dimensions, shape values and prim values that are variables). */
function definedVars(s: StructInfo, out: Set<Var>): void {
  switch (s.kind) {
    case "TensorStructInfo":
      for (const d of s.shape ?? []) if (d.kind === "Var") out.add(d);
      return;
    case "ShapeStructInfo":
      for (const d of s.values ?? []) if (d.kind === "Var") out.add(d);
      return;
    case "PrimStructInfo":
      if (s.value?.kind === "Var") out.add(s.value);
      return;
    case "TupleStructInfo":
      for (const f of s.fields) definedVars(f, out);
      return;
    default:
      return;
  }
}

/** Symbolic variables used anywhere in a function, in order of first use. */
function allSymbolicVars(f: Function): Var[] {
  const out = new Set<Var>();
  const add = (s: StructInfo) => sinfoVars(s).forEach((v) => out.add(v));
  const addExpr = (e: PrimExpr) => {
    visitPrimExpr(e, (x) => {
      if (x.kind === "Var") out.add(x);
    });
    return e;
  };
  f.params.forEach((p) => add(p.structInfo));
  rewriteExpr(f.body, {
    primExpr: addExpr,
    binding: (b) => {
      add(b.var.structInfo);
      return undefined;
    },
    expr: (e) => {
      if (e.kind === "relax.Call") add(e.structInfo);
      return undefined;
    },
  });
  add(f.retStructInfo);
  return [...out];
}

/** Collects one group's bindings and makes its function. */
export class FunctionCreator {
  /** The group's bindings, in program order. */
  readonly bindings: Binding[] = [];
  /** The parameters of the function. */
  params: RVar[] = [];
  /** The caller-side argument of each parameter. */
  args: Expr[] = [];
  /** The function name: `fused_` followed by the names of the PrimFuncs called. */
  name = "fused";
  /** Variables of the group used after it, in result order. */
  readonly outputs: AnyVar[] = [];
  /** The function, once {@link FunctionCreator.create} made it (none for a dead group). */
  func: Function | undefined;
  readonly #defined = new Set<AnyVar>();
  readonly #inlined = new Map<AnyVar, Expr>();
  readonly #partialTuples = new Map<Expr, number[]>();
  #constParams = 0;

  /** `outerBindings` gives the values bound in the enclosing function (for inlining constants). */
  constructor(readonly outerBindings: ReadonlyMap<AnyVar, Expr>, readonly liftConstants = true) {}

  #checkDef(e: Expr): void {
    if (this.args.includes(e)) return;
    const undefinedVar = isVar(e) && !this.#defined.has(e);
    if (undefinedVar) {
      let bound: Expr = e;
      const seen = new Set<Expr>();
      while (isVar(bound) && !seen.has(bound)) {
        seen.add(bound);
        const v = this.outerBindings.get(bound);
        if (!v) break;
        bound = v;
      }
      if (bound !== e && isInlinableConstant(bound)) {
        this.#inlined.set(e, bound);
        return;
      }
    }
    if ((!isVar(e) || undefinedVar) && (this.liftConstants || e.kind !== "relax.Constant")) {
      if (isInlinableConstant(e)) return;
      const name = isVar(e) ? e.name : `param_${this.#constParams++}`;
      this.params.push(rvar(name, e.structInfo));
      this.args.push(e);
      if (e.structInfo.kind === "TupleStructInfo") this.#partialTuples.set(e, []);
    }
  }

  /** Adds a binding of the group. */
  append(b: Binding): void {
    const v = b.value;
    if (b.kind === "VarBinding" && v.kind === "relax.Call") {
      if (isCallTIR(v)) {
        const callee = v.args[0];
        this.name += "_" + (callee?.kind === "GlobalVar" ? callee.name : "call_tir");
        const args = v.args[1];
        for (const a of args?.kind === "relax.Tuple" ? args.fields : []) this.#checkDef(a);
      } else {
        const op = v.op;
        if (op.kind === "relax.Op") this.name += "_" + shortName(op.name).replaceAll(".", "_");
        else if (op.kind === "GlobalVar") this.name += "_" + op.name.replace(/^fused_/, "");
        for (const a of v.args) {
          if (a.kind === "relax.Tuple") a.fields.forEach((x) => this.#checkDef(x));
          else this.#checkDef(a);
          if (a.structInfo.kind === "TupleStructInfo") this.#partialTuples.delete(a);
        }
      }
    } else if (b.kind === "VarBinding" && v.kind === "relax.TupleGetItem") {
      this.#checkDef(v.tuple);
      const idx = this.#partialTuples.get(v.tuple);
      if (idx && !idx.includes(v.index)) idx.push(v.index);
    }
    if (b.kind === "VarBinding") {
      this.#defined.add(b.var);
      if (b.var.kind !== "relax.DataflowVar") this.appendOutput(b.var);
    }
    this.bindings.push(b);
  }

  /** Marks a variable of the group as used after it. */
  appendOutput(v: AnyVar): void {
    if (!this.outputs.includes(v)) this.outputs.push(v);
  }

  /** Makes the function (left undefined when nothing of the group is used afterwards). */
  create(groupAttrs: Attrs): void {
    // A tuple parameter read only through `tuple[i]` becomes one parameter per field read.
    const remap = new Map<Expr, Map<number, RVar>>();
    for (const [t, indices] of this.#partialTuples) {
      if (indices.length === 0 || t.structInfo.kind !== "TupleStructInfo") continue;
      const at = this.args.indexOf(t);
      const p = this.params[at]!;
      const fields = t.structInfo.fields;
      const items = indices.map((i) => rvar(`${p.name}_${i}`, fields[i]!));
      remap.set(t, new Map(indices.map((i, k) => [i, items[k]!])));
      this.args.splice(at, 1, ...indices.map((i) => tupleGetItem(t, i)));
      this.params.splice(at, 1, ...items);
    }
    const argParam = new Map<Expr, RVar>(this.args.map((a, i) => [a, this.params[i]!]));
    const varRemap = new Map<AnyVar, Expr>();
    const rewrite = (e: Expr) =>
      rewriteExpr(e, {
        preExpr: (x) =>
          argParam.get(x) ?? (isVar(x) ? this.#inlined.get(x) ?? varRemap.get(x) : undefined),
      });
    const results: (Expr | undefined)[] = this.outputs.map(() => undefined);
    const bindings: Binding[] = [];
    for (const b of this.bindings) {
      const v = b.value;
      const outIdx = this.outputs.indexOf(b.var);
      if (b.kind === "VarBinding" && v.kind === "relax.TupleGetItem" && remap.has(v.tuple)) {
        const p = remap.get(v.tuple)!.get(v.index)!;
        varRemap.set(b.var, p);
        if (outIdx >= 0) results[outIdx] = p;
        continue;
      }
      const value = rewrite(v);
      const nv = outIdx >= 0
        ? rvar(b.var.name, b.var.structInfo)
        : dataflowVar(b.var.name, b.var.structInfo);
      varRemap.set(b.var, nv);
      bindings.push(
        b.kind === "MatchCast" ? matchCast(nv, value, b.structInfo) : varBinding(nv, value),
      );
      if (outIdx >= 0) results[outIdx] = nv;
    }
    if (results.length === 0) return;
    const outs = results as Expr[];
    const body = outs.length === 1 ? outs[0]! : tuple(outs);
    const attrs = { ...groupAttrs, Primitive: true };
    let f = relaxFunction(this.params, seqExpr([dataflowBlock(bindings)], body), {
      attrs,
      isPrivate: true,
    });
    // Symbolic variables no parameter defines are passed in a trailing shape parameter.
    const defined = new Set<Var>();
    this.params.forEach((p) => definedVars(p.structInfo, defined));
    const free = allSymbolicVars(f).filter((v) => !defined.has(v));
    if (free.length > 0) {
      const p = rvar("tir_vars", shapeSInfo(free));
      this.params.push(p);
      this.args.push(shapeExpr(free));
      f = relaxFunction(this.params, f.body, { attrs, isPrivate: true });
    }
    // Fresh symbolic variables, so that no two functions share one.
    const renew = new Map<Var, PrimExpr>();
    for (const v of allSymbolicVars(f)) {
      renew.set(v, v.isSize ? sizeVar(v.name, v.dtype) : primVar(v.name, v.dtype));
    }
    this.func = substituteFunction(f, { prims: renew });
  }
}

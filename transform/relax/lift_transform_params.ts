/**
 * `LiftTransformParams`: moves the preprocessing of weights out of a model into a separate
 * function, run once when the weights are loaded instead of on every call.
 *
 * A Relax function with the attribute `num_input: k` takes its first `k` parameters as runtime
 * inputs and the rest as weights. Every binding of its dataflow blocks that depends on weights
 * only (pure, reading no input, and whose shapes use only symbolic variables the weights
 * define) is lifted into a new public function `<name>_transform_params`, which takes the
 * weights as one tuple `params` and returns a tuple of what the model still needs: the weights
 * it reads directly (in parameter order), then the lifted values it reads (in binding order).
 * The model is rewritten to take its inputs followed by exactly those values, keeping
 * `num_input: k`:
 *
 * ```ts
 * const lifted = liftTransformParams()(mod);
 * const prepared = await vm.run("main_transform_params", [w1, w2]);     // once
 * const y = await vm.run("main", x, ...(prepared as Tensor[]));          // per call
 * ```
 *
 * Functions without `num_input` are left alone; a module with none is returned as it is. A
 * function with weights always gets its transform function, even when nothing lifts (it then
 * returns the weights the model reads), so callers need not special-case it.
 *
 * @module
 */

import type { Var } from "../../ir/expr.ts";
import { type IRModule, relaxFunctions, withFunction } from "../../ir/module.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  dataflowBlock,
  type DataflowVar,
  dataflowVar,
  type Expr,
  type Function,
  isVar,
  relaxFunction,
  type RVar,
  rvar,
  seqExpr,
  tuple,
  tupleGetItem,
  varBinding,
} from "../../ir/relax/expr.ts";
import { tupleSInfo } from "../../ir/relax/struct_info.ts";
import { rewriteExpr, visitExpr, visitPrimExpr } from "../../ir/visit.ts";
import { modulePass, type Pass } from "../pass.ts";
import { containsImpureCall, sinfoVars, usedVars } from "./_relax_util.ts";

/** The suffix of the functions {@link liftTransformParams} makes. */
export const TRANSFORM_PARAMS_SUFFIX = "_transform_params";

function fail(msg: string): never {
  throw new Error(`LiftTransformParams: ${msg}`);
}

/** The symbolic variables an expression's StructInfo, shapes and prim values use. */
function primVarsOf(e: Expr): Set<Var> {
  const out = new Set<Var>();
  const addAll = (vs: readonly Var[]) => vs.forEach((v) => out.add(v));
  visitExpr(e, (x) => {
    addAll(sinfoVars(x.structInfo));
    if (x.kind === "relax.Call") x.sinfoArgs.forEach((s) => addAll(sinfoVars(s)));
    const prims = x.kind === "relax.ShapeExpr"
      ? x.values
      : x.kind === "relax.PrimValue"
      ? [x.value]
      : [];
    for (const p of prims) {
      visitPrimExpr(p, (y) => {
        if (y.kind === "Var") out.add(y);
      });
    }
  });
  return out;
}

/** What lifting one function produced. */
interface Lifted {
  readonly model: Function;
  readonly transform: Function;
}

function liftFunction(f: Function, name: string, mod: IRModule): Lifted {
  const k = f.attrs["num_input"];
  if (typeof k !== "number" || !Number.isInteger(k) || k < 0) {
    fail(`"${name}" has num_input ${JSON.stringify(k)}: expected a non-negative integer`);
  }
  if (k > f.params.length) {
    fail(`"${name}" has num_input ${k} but only ${f.params.length} parameters`);
  }
  const weights = f.params.slice(k);
  const weightSyms = new Set<Var>(weights.flatMap((w) => sinfoVars(w.structInfo)));
  const body = f.body.kind === "relax.SeqExpr" ? f.body : seqExpr([], f.body);

  // 1. the liftable bindings: pure, reading only weights and lifted values
  const available = new Set<AnyVar>(weights);
  const lifted = new Set<Binding>();
  for (const block of body.blocks) {
    if (block.kind !== "DataflowBlock") continue;
    for (const b of block.bindings) {
      if (b.kind !== "VarBinding" || containsImpureCall(b.value, mod)) continue;
      const uses = usedVars(b.value);
      if (uses.length === 0 || !uses.every((u) => available.has(u))) continue;
      const syms = primVarsOf(b.value);
      for (const s of sinfoVars(b.var.structInfo)) syms.add(s);
      if (![...syms].every((s) => weightSyms.has(s))) continue;
      available.add(b.var);
      lifted.add(b);
    }
  }

  // 2. what the rest of the model reads
  const needed = new Set<AnyVar>();
  const note = (e: Expr) => {
    for (const u of usedVars(e)) if (available.has(u)) needed.add(u);
  };
  for (const block of body.blocks) {
    for (const b of block.bindings) if (!lifted.has(b)) note(b.value);
  }
  note(body.body);
  const outputs = [
    ...weights.filter((w) => needed.has(w)),
    ...[...lifted].map((b) => b.var).filter((v) => needed.has(v)),
  ];

  // 3. the transform function: params[i] for each weight used, the lifted bindings, the outputs
  const params = rvar("params", tupleSInfo(weights.map((w) => w.structInfo)));
  const local = new Map<AnyVar, DataflowVar>();
  const bindings: Binding[] = [];
  const usedByTransform = new Set<AnyVar>(outputs);
  for (const b of lifted) for (const u of usedVars(b.value)) usedByTransform.add(u);
  weights.forEach((w, i) => {
    if (!usedByTransform.has(w)) return;
    const v = dataflowVar(w.name, w.structInfo);
    local.set(w, v);
    bindings.push(varBinding(v, tupleGetItem(params, i)));
  });
  const toLocal = (e: Expr) =>
    rewriteExpr(e, { preExpr: (x) => (isVar(x) ? local.get(x) : undefined) });
  for (const b of lifted) {
    const v = dataflowVar(b.var.name, b.var.structInfo);
    bindings.push(varBinding(v, toLocal(b.value)));
    local.set(b.var, v);
  }
  const result = tuple(outputs.map((o) => local.get(o)!));
  const gv = rvar("gv", result.structInfo);
  bindings.push(varBinding(gv, result));
  const transformName = `${name}${TRANSFORM_PARAMS_SUFFIX}`;
  const transform = relaxFunction([params], seqExpr([dataflowBlock(bindings)], gv), {
    retStructInfo: result.structInfo,
    attrs: { global_symbol: transformName },
  });

  // 4. the model: inputs, then the values it reads; lifted bindings removed
  if (lifted.size === 0 && outputs.length === weights.length) return { model: f, transform };
  const subst = new Map<AnyVar, Expr>();
  const newParams: RVar[] = [...f.params.slice(0, k)];
  for (const o of outputs) {
    if (o.kind === "relax.Var" && weights.includes(o)) {
      newParams.push(o);
    } else {
      const p = rvar(o.name, o.structInfo);
      subst.set(o, p);
      newParams.push(p);
    }
  }
  const rewrite = (e: Expr) =>
    subst.size === 0 ? e : rewriteExpr(e, {
      preExpr: (x) => (isVar(x) ? subst.get(x) : undefined),
    });
  const blocks: BindingBlock[] = [];
  for (const block of body.blocks) {
    const kept = block.bindings.filter((b) => !lifted.has(b)).map((b) => {
      const value = rewrite(b.value);
      return value === b.value ? b : { ...b, value };
    });
    if (kept.length) blocks.push({ ...block, bindings: kept });
  }
  const model = relaxFunction(newParams, seqExpr(blocks, rewrite(body.body)), {
    retStructInfo: f.retStructInfo,
    isPure: f.isPure,
    attrs: f.attrs,
    isPrivate: f.isPrivate,
  });
  return { model, transform };
}

/**
 * The `LiftTransformParams` pass (see the module documentation). Throws when `num_input` is not
 * a non-negative integer no larger than the parameter count, or when the module already has a
 * function named `<name>_transform_params`.
 */
export function liftTransformParams(): Pass {
  return modulePass("LiftTransformParams", (mod: IRModule) => {
    let out = mod;
    for (const [name, f] of relaxFunctions(mod)) {
      if (!("num_input" in f.attrs)) continue;
      const k = f.attrs["num_input"];
      if (typeof k === "number" && k === f.params.length) continue;
      const { model, transform } = liftFunction(f, name, mod);
      const tname = `${name}${TRANSFORM_PARAMS_SUFFIX}`;
      if (out.functions.has(tname)) {
        fail(`the module already has a function named "${tname}"`);
      }
      out = withFunction(withFunction(out, name, model), tname, transform);
    }
    return out;
  });
}

/**
 * A small evaluator of Relax functions for tests of graph passes: `call_tir`s run on the
 * block-form TIR interpreter, calls of module functions recurse, tuples and constants are
 * supported. Enough to check that an optimized module computes what the original computes.
 *
 * @module
 */

import type { PrimExpr, Var } from "../../../ir/expr.ts";
import type { IRModule } from "../../../ir/module.ts";
import type { AnyVar, Expr, Function } from "../../../ir/relax/expr.ts";
import type { StructInfo } from "../../../ir/relax/struct_info.ts";
import { type ArrayArg, randomArray, runPrimFunc } from "../../_tir_interp.ts";

/** A Relax value: a tensor, a tuple, or a shape. */
export type Value = ArrayArg | { readonly tuple: readonly Value[] } | {
  readonly shape: readonly number[];
};

function prim(e: PrimExpr, env: ReadonlyMap<Var, number>): number {
  switch (e.kind) {
    case "IntImm":
    case "FloatImm":
      return e.value;
    case "Var": {
      const v = env.get(e);
      if (v === undefined) throw new Error(`Unbound symbolic variable ${e.name}`);
      return v;
    }
    case "Add":
      return prim(e.a, env) + prim(e.b, env);
    case "Sub":
      return prim(e.a, env) - prim(e.b, env);
    case "Mul":
      return prim(e.a, env) * prim(e.b, env);
    case "FloorDiv":
      return Math.floor(prim(e.a, env) / prim(e.b, env));
    case "FloorMod": {
      const b = prim(e.b, env);
      return prim(e.a, env) - Math.floor(prim(e.a, env) / b) * b;
    }
    case "Min":
      return Math.min(prim(e.a, env), prim(e.b, env));
    case "Max":
      return Math.max(prim(e.a, env), prim(e.b, env));
    default:
      throw new Error(`Cannot evaluate ${e.kind} in a shape`);
  }
}

function bindShape(s: StructInfo, v: Value, env: Map<Var, number>): void {
  if (s.kind === "TensorStructInfo" && "data" in v && s.shape) {
    s.shape.forEach((d, i) => {
      if (d.kind === "Var" && !env.has(d)) env.set(d, v.shape[i]!);
    });
  } else if (s.kind === "TupleStructInfo" && "tuple" in v) {
    s.fields.forEach((f, i) => bindShape(f, v.tuple[i]!, env));
  } else if (s.kind === "ShapeStructInfo" && "shape" in v && !("data" in v) && s.values) {
    s.values.forEach((d, i) => {
      if (d.kind === "Var" && !env.has(d)) env.set(d, v.shape[i]!);
    });
  }
}

function alloc(s: StructInfo, env: ReadonlyMap<Var, number>): Value[] {
  if (s.kind === "TupleStructInfo") return s.fields.flatMap((f) => alloc(f, env));
  if (s.kind !== "TensorStructInfo" || !s.shape) {
    throw new Error("call_tir outputs must be tensors of known shape");
  }
  const shape = s.shape.map((d) => prim(d, env));
  return [{ shape, data: new Array(shape.reduce((a, b) => a * b, 1)).fill(NaN) }];
}

/** Runs Relax function `name` of `mod` on `args`. */
export function evalRelax(mod: IRModule, name: string, args: readonly Value[]): Value {
  const f = mod.functions.get(name);
  if (!f || f.kind !== "relax.Function") throw new Error(`No Relax function "${name}"`);
  return callFunction(mod, f, args);
}

function callFunction(mod: IRModule, f: Function, args: readonly Value[]): Value {
  const vars = new Map<AnyVar, Value>();
  const env = new Map<Var, number>();
  f.params.forEach((p, i) => {
    vars.set(p, args[i]!);
    bindShape(p.structInfo, args[i]!, env);
  });
  const ev = (e: Expr): Value => {
    switch (e.kind) {
      case "relax.Var":
      case "relax.DataflowVar": {
        const v = vars.get(e);
        if (!v) throw new Error(`Unbound variable ${e.name}`);
        return v;
      }
      case "relax.Constant":
        return { shape: e.data.shape, data: Array.from(e.data.data as ArrayLike<number>) };
      case "relax.Tuple":
        return { tuple: e.fields.map(ev) };
      case "relax.TupleGetItem": {
        const t = ev(e.tuple);
        if (!("tuple" in t)) throw new Error("Not a tuple");
        return t.tuple[e.index]!;
      }
      case "relax.ShapeExpr":
        return { shape: e.values.map((x) => prim(x, env)) };
      case "relax.SeqExpr":
        for (const block of e.blocks) {
          for (const b of block.bindings) {
            const v = ev(b.value);
            vars.set(b.var, v);
            bindShape(b.kind === "MatchCast" ? b.structInfo : b.var.structInfo, v, env);
          }
        }
        return ev(e.body);
      case "relax.Call": {
        if (e.op.kind === "GlobalVar") {
          const g = mod.functions.get(e.op.name);
          if (!g || g.kind !== "relax.Function") {
            throw new Error(`No Relax function "${e.op.name}"`);
          }
          return callFunction(mod, g, e.args.map(ev));
        }
        if (e.op.kind !== "relax.Op" || e.op.name !== "relax.call_tir") {
          throw new Error(`Cannot evaluate a call of ${e.op.kind}`);
        }
        const gv = e.args[0]!;
        const pf = gv.kind === "GlobalVar" ? mod.functions.get(gv.name) : undefined;
        if (!pf || pf.kind !== "PrimFunc") throw new Error("call_tir of a missing PrimFunc");
        const ins = (e.args[1] as { fields: readonly Expr[] }).fields.map(ev) as ArrayArg[];
        const outs = alloc(e.sinfoArgs[0]!, env) as ArrayArg[];
        const scalars = e.args[2] ? (ev(e.args[2]) as { shape: number[] }).shape : [];
        runPrimFunc(pf, [...ins, ...outs, ...scalars]);
        for (const o of outs) {
          if (o.data.some((x) => Number.isNaN(x))) {
            throw new Error(`${gv.kind === "GlobalVar" ? gv.name : "?"} left elements unwritten`);
          }
        }
        return outs.length === 1 && e.sinfoArgs[0]!.kind !== "TupleStructInfo"
          ? outs[0]!
          : { tuple: outs };
      }
      default:
        throw new Error(`Cannot evaluate ${e.kind}`);
    }
  };
  return ev(f.body);
}

/** A random tensor of the given shape (deterministic per seed). */
export function randomTensor(shape: readonly number[], seed: number): ArrayArg {
  return { shape, data: randomArray(shape.reduce((a, b) => a * b, 1), seed) };
}

/** Throws unless two values agree within `tol` (relative to magnitude). */
export function assertClose(a: Value, b: Value, tol = 1e-5): void {
  if ("tuple" in a || "tuple" in b) {
    if (!("tuple" in a) || !("tuple" in b) || a.tuple.length !== b.tuple.length) {
      throw new Error("Tuple mismatch");
    }
    a.tuple.forEach((x, i) => assertClose(x, b.tuple[i]!, tol));
    return;
  }
  if (!("data" in a) || !("data" in b)) throw new Error("Expected tensors");
  if (a.shape.join() !== b.shape.join()) throw new Error(`Shapes differ: ${a.shape} vs ${b.shape}`);
  a.data.forEach((x, i) => {
    const y = b.data[i]!;
    if (!(Math.abs(x - y) <= tol * Math.max(1, Math.abs(x), Math.abs(y)))) {
      throw new Error(`Element ${i} differs: ${x} vs ${y}`);
    }
  });
}

/**
 * `FoldConstant`: evaluates, at compile time, the bindings of dataflow blocks whose inputs are
 * all constants, and replaces them by their values.
 *
 * What folds: a `call_tir` whose tensor arguments are constants and whose outputs (and
 * `tir_vars`) have static shapes, and a call of a high-level operator whose tensor arguments
 * are all constants (at least one) and whose result has a static shape: the operator is
 * legalized on the side (its te compute) and the resulting kernel evaluated. Tuples of
 * constants and items of such tuples fold too. A folded binding disappears and its uses refer
 * to the constant; the rest of the program is left as it is (PrimFuncs that become unused stay
 * for `DeadCodeElimination`). Creation operators without tensor inputs (`zeros`, `arange`) are
 * not folded: that would only grow the executable.
 *
 * `transform/` cannot run kernels, so the pass takes a {@link ConstantEvaluator}: from its
 * options, else from the pass context's config ({@link CONSTANT_EVALUATOR_CONFIG}), which
 * `build` fills with a CPU evaluator. A module with nothing to fold needs none and is returned
 * as it is.
 *
 * @example
 * ```ts
 * const folded = foldConstant({ evaluator: cpuConstantEvaluator() })(legalized);
 * ```
 *
 * @module
 */

import type { DType } from "../../ir/dtype.ts";
import { type IRModule, irModule, relaxFunctions, withFunction } from "../../ir/module.ts";
import { BlockBuilder } from "../../ir/relax/block_builder.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  type Constant,
  constantTensor,
  type Expr,
  type Function,
  isVar,
  type NDArray,
  type RCall,
  type SeqExpr,
  tuple,
} from "../../ir/relax/expr.ts";
import { type LegalizeContext, lookupOp, shortName } from "../../ir/relax/op/registry.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { rewriteExpr } from "../../ir/visit.ts";
import { modulePass, type Pass, type PassContext } from "../pass.ts";
import { isImpureCall } from "./_relax_util.ts";

/** The dtype and static shape of a tensor a kernel writes. */
export interface TensorSpec {
  /** The element dtype. */
  readonly dtype: DType;
  /** The extent of each dimension. */
  readonly shape: readonly number[];
}

/**
 * Runs kernels on host tensors at compile time, for {@link foldConstant}. The runtime provides
 * one (`cpuConstantEvaluator()` in `runtime/constant_evaluator.ts`); `transform/` only
 * declares what it needs.
 */
export interface ConstantEvaluator {
  /**
   * Runs `func` (a PrimFunc in destination-passing style, not yet scheduled or lowered) with
   * `inputs` as its first buffer arguments, fresh tensors described by `outputs` after them and
   * then `scalars` for its trailing scalar parameters (`tir_vars`); returns the outputs.
   */
  callPrimFunc(
    func: PrimFunc,
    inputs: readonly NDArray[],
    outputs: readonly TensorSpec[],
    scalars: readonly number[],
  ): NDArray[];
}

/** The pass-context config key under which `build` passes a {@link ConstantEvaluator}. */
export const CONSTANT_EVALUATOR_CONFIG = "relax.FoldConstant.evaluator";

/** Options of {@link foldConstant}. */
export interface FoldConstantOptions {
  /** Evaluates kernels; by default the pass context's {@link CONSTANT_EVALUATOR_CONFIG}. */
  readonly evaluator?: ConstantEvaluator;
}

/** Legalizations nested deeper than this are not folded. */
const MAX_DEPTH = 8;

/** Thrown inside the folder when an expression turns out not to be constant. */
class NotConstant extends Error {}

function isEvaluator(x: unknown): x is ConstantEvaluator {
  return typeof (x as { callPrimFunc?: unknown } | null)?.callPrimFunc === "function";
}

/** Whether `e` is a constant or a tuple of (tuples of) constants. */
function isConstantValue(e: Expr): boolean {
  return e.kind === "relax.Constant" ||
    (e.kind === "relax.Tuple" && e.fields.every(isConstantValue));
}

/** The static shape and dtype of a tensor StructInfo, or undefined. */
function staticTensor(s: StructInfo): TensorSpec | undefined {
  if (s.kind !== "TensorStructInfo" || !s.shape || s.dtype === "void") return undefined;
  const shape: number[] = [];
  for (const d of s.shape) {
    if (d.kind !== "IntImm") return undefined;
    shape.push(d.value);
  }
  return { dtype: s.dtype, shape };
}

function staticResult(s: StructInfo): boolean {
  return s.kind === "TupleStructInfo" ? s.fields.every(staticResult) : !!staticTensor(s);
}

/** Whether a non-tensor argument carries no runtime value (shapes, scalars, dtypes, strings). */
function isStaticArg(e: Expr): boolean {
  switch (e.kind) {
    case "relax.ShapeExpr":
      return e.values.every((v) => v.kind === "IntImm");
    case "relax.PrimValue":
      return e.value.kind === "IntImm" || e.value.kind === "FloatImm";
    case "relax.DataTypeImm":
    case "relax.StringImm":
      return true;
    case "relax.Tuple":
      return e.fields.every((f) => f.kind === "relax.Constant" || isStaticArg(f));
    default:
      return false;
  }
}

/** Folds expressions of one function; `evaluator()` throws when none is available. */
class Folder {
  constructor(
    readonly mod: IRModule,
    readonly evaluator: (what: string) => ConstantEvaluator,
  ) {}

  /** The constant value of `e` (all of whose variables were substituted), or undefined. */
  fold(e: Expr): Expr | undefined {
    try {
      return this.#fold(e, this.mod, 0);
    } catch (err) {
      if (err instanceof NotConstant) return undefined;
      throw err;
    }
  }

  #fold(e: Expr, scope: IRModule, depth: number): Expr {
    switch (e.kind) {
      case "relax.Constant":
        return e;
      case "relax.Tuple": {
        const fields = e.fields.map((f) => this.#fold(f, scope, depth));
        return fields.every((f, i) => f === e.fields[i]) ? e : tuple(fields);
      }
      case "relax.TupleGetItem": {
        const t = this.#fold(e.tuple, scope, depth);
        if (t.kind !== "relax.Tuple") throw new NotConstant();
        const f = t.fields[e.index];
        if (!f) throw new NotConstant();
        return f;
      }
      case "relax.Call":
        return this.#call(e, scope, depth);
      default:
        throw new NotConstant();
    }
  }

  #call(call: RCall, scope: IRModule, depth: number): Expr {
    if (call.op.kind !== "relax.Op" || isImpureCall(call, scope)) throw new NotConstant();
    if (call.op.name === "relax.call_tir") return this.#callTIR(call, scope);
    return this.#legalizeAndFold(call, depth);
  }

  #callTIR(call: RCall, scope: IRModule): Expr {
    const [callee, args, tirVars] = call.args;
    if (callee?.kind !== "GlobalVar" || !args) throw new NotConstant();
    const func = scope.functions.get(callee.name) ?? this.mod.functions.get(callee.name);
    if (func?.kind !== "PrimFunc") throw new NotConstant();
    const folded = this.#fold(args, scope, 0);
    if (folded.kind !== "relax.Tuple") throw new NotConstant();
    const inputs = folded.fields.map((f) => {
      if (f.kind !== "relax.Constant") throw new NotConstant();
      return f.data;
    });
    const scalars: number[] = [];
    if (tirVars) {
      if (tirVars.kind !== "relax.ShapeExpr") throw new NotConstant();
      for (const v of tirVars.values) {
        if (v.kind !== "IntImm") throw new NotConstant();
        scalars.push(v.value);
      }
    }
    const out = call.sinfoArgs[0];
    if (!out) throw new NotConstant();
    const specs = (out.kind === "TupleStructInfo" ? out.fields : [out]).map((s) => {
      const t = staticTensor(s);
      if (!t) throw new NotConstant();
      return t;
    });
    const evaluator = this.evaluator(callee.name);
    let results: NDArray[];
    try {
      results = evaluator.callPrimFunc(func, inputs, specs, scalars);
    } catch (err) {
      throw new Error(`FoldConstant: cannot evaluate "${callee.name}": ${(err as Error).message}`);
    }
    if (results.length !== specs.length) {
      throw new Error(
        `FoldConstant: the evaluator returned ${results.length} outputs for "${callee.name}", expected ${specs.length}`,
      );
    }
    const consts: Constant[] = results.map((r) => constantTensor(r));
    return out.kind === "TupleStructInfo" ? tuple(consts) : consts[0]!;
  }

  /** Legalizes an operator call whose tensor arguments are constants, then folds the result. */
  #legalizeAndFold(call: RCall, depth: number): Expr {
    const name = (call.op as { name: string }).name;
    const rule = lookupOp(name)?.legalize;
    if (!rule || depth > MAX_DEPTH || !staticResult(call.structInfo)) throw new NotConstant();
    let tensors = 0;
    for (const a of call.args) {
      if (a.kind === "relax.Constant") tensors++;
      else if (!isStaticArg(a)) throw new NotConstant();
    }
    if (tensors === 0) throw new NotConstant();
    const bb = new BlockBuilder(irModule());
    const ctx: LegalizeContext = {
      callTe: (fn, args, options) => bb.callTe(fn, args, { name: options?.name ?? "te_func" }),
      emit: (e) => this.#fold(e, bb.get(), depth + 1),
    };
    let res: Expr;
    try {
      res = rule(call, ctx);
    } catch (err) {
      if (err instanceof NotConstant) throw err;
      throw new Error(
        `FoldConstant: cannot legalize "${shortName(name)}": ${(err as Error).message}`,
      );
    }
    if (res === call) throw new NotConstant();
    return this.#fold(res, bb.get(), depth + 1);
  }
}

/** Folds the bindings of one function; returns it unchanged when nothing folds. */
function foldFunction(f: Function, folder: Folder): Function {
  const known = new Map<AnyVar, Expr>();
  const subst = (e: Expr): Expr =>
    known.size === 0 ? e : rewriteExpr(e, {
      preExpr: (x) => (isVar(x) ? known.get(x) : undefined),
    });
  const block = (b: BindingBlock): BindingBlock | undefined => {
    const out: Binding[] = [];
    let changed = false;
    for (const x of b.bindings) {
      const value = rewriteExpr(subst(x.value), {
        preExpr: (e) => (e.kind === "relax.SeqExpr" ? seq(e) : undefined),
      });
      if (x.kind === "VarBinding" && b.kind === "DataflowBlock") {
        const c = isConstantValue(value) ? value : folder.fold(value);
        if (c) {
          known.set(x.var, c);
          changed = true;
          continue;
        }
      }
      if (value !== x.value) changed = true;
      out.push(value === x.value ? x : { ...x, value });
    }
    if (!changed) return b;
    return out.length ? { ...b, bindings: out } : undefined;
  };
  const seq = (e: SeqExpr): SeqExpr => {
    let changed = false;
    const blocks: BindingBlock[] = [];
    for (const b of e.blocks) {
      const nb = block(b);
      if (nb !== b) changed = true;
      if (nb) blocks.push(nb);
    }
    const body = rewriteExpr(subst(e.body), {
      preExpr: (x) => (x.kind === "relax.SeqExpr" ? seq(x) : undefined),
    });
    return changed || body !== e.body ? { ...e, blocks, body } : e;
  };
  const body = f.body.kind === "relax.SeqExpr" ? seq(f.body) : f.body;
  return body === f.body ? f : { ...f, body };
}

/**
 * The `FoldConstant` pass (see the module documentation). Throws when something can be folded
 * but no evaluator was given, or when the evaluator fails, naming the kernel.
 */
export function foldConstant(options: FoldConstantOptions = {}): Pass {
  return modulePass("FoldConstant", (mod: IRModule, ctx: PassContext) => {
    const evaluator = (what: string): ConstantEvaluator => {
      const e = options.evaluator ?? ctx.config[CONSTANT_EVALUATOR_CONFIG];
      if (isEvaluator(e)) return e;
      throw new Error(
        `FoldConstant needs a constant evaluator to fold "${what}": pass foldConstant({ evaluator }) or set the pass context's "${CONSTANT_EVALUATOR_CONFIG}" (build() does)`,
      );
    };
    const folder = new Folder(mod, evaluator);
    let out = mod;
    for (const [name, f] of relaxFunctions(mod)) {
      const g = foldFunction(f, folder);
      if (g !== f) out = withFunction(out, name, g);
    }
    return out;
  });
}

/**
 * `ToMixedPrecision`: runs the compute-heavy operators of dataflow blocks (`matmul`, `conv2d`,
 * `conv2d_transpose`) on float16 inputs with float32 accumulation, where the target has f16.
 *
 * The rules, for float32 tensors:
 *
 * - **compute** operators get their float32 arguments cast to float16 (`R.astype`) and
 *   `out_dtype` set to `outDtype`: float32 by default (f16 inputs, f32 accumulation and result),
 *   or float16 (f16 all the way);
 * - **follow** operators (elementwise arithmetic, `relu`, layout changes, `max_pool2d`) run in
 *   float16 when one of their inputs was computed in float16 by this pass (only with
 *   `outDtype: "float16"`), casting their other float32 inputs;
 * - everything else (`softmax`, reductions, normalizations, `exp`, ...) runs in float32: a
 *   float16 value it reads is cast back first.
 *
 * Function parameters, dataflow outputs and results keep their dtypes, so callers see no
 * difference. Casts of constants are left for `FoldConstant` (and casts of weights for
 * `LiftTransformParams`). The pass reads the target from its options or the pass context's
 * `"target"` config (which `build` sets): a target without f16 (`supportsF16: false`) leaves
 * the module as it is.
 *
 * @example
 * ```ts
 * const mixed = toMixedPrecision()(mod);   // before LegalizeOps
 * ```
 *
 * @module
 */

import type { DType } from "../../ir/dtype.ts";
import { type IRModule, relaxFunctions, withFunction } from "../../ir/module.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  dataflowVar,
  type Expr,
  type Function,
  isVar,
  type RCall,
  type SeqExpr,
  tuple,
  varBinding,
} from "../../ir/relax/expr.ts";
import { makeOpCall } from "../../ir/relax/op/registry.ts";
import { rewriteExpr, visitBindings } from "../../ir/visit.ts";
import { modulePass, type Pass, type PassContext } from "../pass.ts";
import type { Target } from "../target.ts";

/** Options of {@link toMixedPrecision}. */
export interface ToMixedPrecisionOptions {
  /**
   * The result dtype of compute operators: `"float32"` (default: f32 accumulation) or
   * `"float16"`.
   */
  readonly outDtype?: "float32" | "float16";
  /** The target; by default the pass context's `"target"` config. Without one, converts. */
  readonly target?: Target;
}

/** Operators that run on f16 inputs with an `out_dtype`. */
const COMPUTE_OPS: ReadonlySet<string> = new Set([
  "relax.matmul",
  "relax.nn.conv2d",
  "relax.nn.conv2d_transpose",
]);

/** Operators that run in f16 when an input was computed in f16. */
const FOLLOW_OPS: ReadonlySet<string> = new Set([
  "relax.add",
  "relax.subtract",
  "relax.multiply",
  "relax.divide",
  "relax.maximum",
  "relax.minimum",
  "relax.negative",
  "relax.abs",
  "relax.nn.relu",
  "relax.reshape",
  "relax.permute_dims",
  "relax.squeeze",
  "relax.expand_dims",
  "relax.broadcast_to",
  "relax.flatten",
  "relax.concat",
  "relax.strided_slice",
  "relax.nn.max_pool2d",
]);

function dtypeOf(e: Expr): DType | undefined {
  return e.structInfo.kind === "TensorStructInfo" ? e.structInfo.dtype : undefined;
}

/** Whether `target` (a Target or a target kind) is known to lack f16. */
function lacksF16(target: unknown): boolean {
  if (typeof target === "object" && target !== null && "supportsF16" in target) {
    return (target as Target).supportsF16 === false;
  }
  return false;
}

/** Rewrites one function's dataflow blocks. */
class Converter {
  readonly #names = new Set<string>();
  /** The f16 version of an original variable: a cast, or the value computed in f16. */
  #f16 = new Map<AnyVar | Expr, Expr>();
  /** The f32 version of a dataflow variable whose binding now computes f16. */
  #f32 = new Map<AnyVar, Expr>();
  /** Original variables whose value this pass computes in f16. */
  #computed = new Set<AnyVar>();
  /** Dataflow variables no longer bound (replaced by an f16 variable). */
  #replaced = new Set<AnyVar>();
  #out: Binding[] = [];

  constructor(readonly outDtype: "float32" | "float16", f: Function) {
    for (const p of f.params) this.#names.add(p.name);
    visitBindings(f.body, (b) => void this.#names.add(b.var.name));
  }

  #fresh(hint: string): string {
    let n = hint;
    for (let i = 1; this.#names.has(n); i++) n = `${hint}${i}`;
    this.#names.add(n);
    return n;
  }

  #emit(hint: string, value: RCall): Expr {
    const v = dataflowVar(this.#fresh(hint), value.structInfo);
    this.#out.push(varBinding(v, value));
    return v;
  }

  /** `e` as float16 (a float32 tensor is cast once per block; others are returned as they are). */
  #asF16(e: Expr): Expr {
    if (e.kind === "relax.Tuple") {
      const fields = e.fields.map((f) => this.#asF16(f));
      return fields.every((f, i) => f === e.fields[i]) ? e : tuple(fields);
    }
    const known = this.#f16.get(e);
    if (known) return known;
    if (dtypeOf(e) !== "float32") return e;
    const hint = isVar(e) ? `${e.name}_f16` : "const_f16";
    const c = this.#emit(hint, makeOpCall("relax.astype", [e], { dtype: "float16" }));
    this.#f16.set(e, c);
    return c;
  }

  /** `e` with every variable this pass moved to f16 read as float32 again. */
  #asF32(e: Expr): Expr {
    if (this.#replaced.size === 0) return e;
    return rewriteExpr(e, {
      preExpr: (x) => {
        if (!isVar(x) || !this.#replaced.has(x)) return undefined;
        let v = this.#f32.get(x);
        if (!v) {
          const src = this.#f16.get(x)!;
          v = this.#emit(`${x.name}_f32`, makeOpCall("relax.astype", [src], { dtype: "float32" }));
          this.#f32.set(x, v);
        }
        return v;
      },
    });
  }

  #isComputed(e: Expr): boolean {
    if (e.kind === "relax.Tuple") return e.fields.some((f) => this.#isComputed(f));
    return isVar(e) && this.#computed.has(e);
  }

  /** Whether every float tensor among `args` is float32 (or was moved to f16 by this pass). */
  #allF32(args: readonly Expr[]): boolean {
    return args.every((a) => {
      if (a.kind === "relax.Tuple") return this.#allF32(a.fields);
      const d = dtypeOf(a);
      return d === undefined || d === "float32" || !d.startsWith("float") ||
        (isVar(a) && this.#computed.has(a));
    });
  }

  /** Binds `var` to `value`, which may compute float16 where `var` is float32. */
  #bind(b: Binding, value: Expr): void {
    const v = b.var;
    if (dtypeOf(value) !== "float16" || dtypeOf(v) !== "float32") {
      this.#out.push(value === b.value ? b : { ...b, value });
      return;
    }
    this.#computed.add(v);
    if (v.kind === "relax.DataflowVar") {
      const nv = dataflowVar(v.name, value.structInfo);
      this.#out.push(varBinding(nv, value));
      this.#f16.set(v, nv);
      this.#replaced.add(v);
    } else {
      const h = this.#emit(`${v.name}_f16`, value as RCall);
      this.#f16.set(v, h);
      this.#out.push(varBinding(v, makeOpCall("relax.astype", [h], { dtype: "float32" })));
    }
  }

  #binding(b: Binding): void {
    const value = b.value;
    if (b.kind !== "VarBinding" || value.kind !== "relax.Call" || value.op.kind !== "relax.Op") {
      return this.#bind(b, this.#asF32(value));
    }
    const name = value.op.name;
    const floatResult = dtypeOf(value) === "float32";
    if (COMPUTE_OPS.has(name) && floatResult && this.#allF32(value.args)) {
      const args = value.args.map((a) => this.#asF16(a));
      return this.#bind(
        b,
        makeOpCall(name, args, { ...value.attrs, out_dtype: this.outDtype }, value.sinfoArgs),
      );
    }
    if (
      FOLLOW_OPS.has(name) && floatResult && value.args.some((a) => this.#isComputed(a)) &&
      this.#allF32(value.args)
    ) {
      const call = makeOpCall(name, value.args.map((a) => this.#asF16(a)), value.attrs);
      if (dtypeOf(call) === "float16") return this.#bind(b, call);
    }
    if (name === "relax.astype" && value.args[0] && this.#isComputed(value.args[0])) {
      const src = this.#f16.get(value.args[0] as AnyVar)!;
      return this.#bind(b, makeOpCall(name, [src], value.attrs));
    }
    this.#bind(b, this.#asF32(value));
  }

  block(block: BindingBlock): BindingBlock {
    if (block.kind !== "DataflowBlock") return block;
    this.#f16 = new Map();
    this.#f32 = new Map();
    this.#computed = new Set();
    this.#replaced = new Set();
    this.#out = [];
    for (const b of block.bindings) this.#binding(b);
    const same = this.#out.length === block.bindings.length &&
      this.#out.every((b, i) => b === block.bindings[i]);
    return same ? block : { ...block, bindings: this.#out };
  }
}

function convertFunction(f: Function, outDtype: "float32" | "float16"): Function {
  const conv = new Converter(outDtype, f);
  const seq = (e: SeqExpr): SeqExpr => {
    const blocks = e.blocks.map((b) => conv.block(b));
    const body = rewriteExpr(e.body, {
      preExpr: (x) => (x.kind === "relax.SeqExpr" ? seq(x) : undefined),
    });
    return blocks.every((b, i) => b === e.blocks[i]) && body === e.body
      ? e
      : { ...e, blocks, body };
  };
  const body = f.body.kind === "relax.SeqExpr" ? seq(f.body) : f.body;
  return body === f.body ? f : { ...f, body };
}

/**
 * The `ToMixedPrecision` pass (see the module documentation). Runs on high-level operators,
 * before `LegalizeOps`. Throws on an `outDtype` other than float32 or float16.
 */
export function toMixedPrecision(options: ToMixedPrecisionOptions = {}): Pass {
  const outDtype = options.outDtype ?? "float32";
  if (outDtype !== "float32" && outDtype !== "float16") {
    throw new Error(
      `ToMixedPrecision: outDtype must be "float32" or "float16", got "${String(outDtype)}"`,
    );
  }
  return modulePass("ToMixedPrecision", (mod: IRModule, ctx: PassContext) => {
    if (lacksF16(options.target ?? ctx.config["target"])) return mod;
    let out = mod;
    for (const [name, f] of relaxFunctions(mod)) {
      const g = convertFunction(f, outDtype);
      if (g !== f) out = withFunction(out, name, g);
    }
    return out;
  });
}

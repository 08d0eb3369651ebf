/**
 * `BlockBuilder`: builds Relax functions with callback scopes. Every `emit` normalizes its
 * expression (nested calls are bound to variables first, A-normal form) and returns a variable
 * with the inferred StructInfo, so the builder cannot produce a malformed program.
 *
 * ```ts
 * const bb = new BlockBuilder();
 * const x = R.tensor([n, 4], "float32", "x");
 * bb.function("main", [x], () =>
 *   bb.dataflow(() => bb.emitOutput(bb.emit(op.exp(x)))));
 * const mod = bb.get();
 * ```
 *
 * @module
 */

import type { PrimExpr } from "../expr.ts";
import {
  type BaseFunc,
  freshGlobalName,
  type IRModule,
  irModule,
  withFunction,
} from "../module.ts";
import type { PrimFunc } from "../tir/prim_func.ts";
import type { Attrs } from "../tir/stmt.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  bindingBlock,
  dataflowBlock,
  dataflowVar,
  type Expr,
  type GlobalVar,
  globalVar,
  isVar,
  matchCast as matchCastBinding,
  relaxFunction,
  type RVar,
  rvar,
  seqExpr,
  tuple,
  varBinding,
} from "./expr.ts";
import { type StructInfo, tensorSInfo } from "./struct_info.ts";
import { rewriteStructInfo, visitPrimExpr } from "../visit.ts";
import { type Operation, placeholder, type Tensor as TeTensor } from "../te/tensor.ts";
import { isReduce } from "../te/reduce.ts";
import { createPrimFunc } from "../te/create_prim_func.ts";
import type { Var } from "../expr.ts";
import { callTIR } from "./op/call.ts";
import { structuralEqual, structuralHash } from "../structural.ts";
import type { RCall } from "./expr.ts";

/** Options of {@link BlockBuilder.function}. */
export interface BuildFunctionOptions {
  /** Function attributes. */
  readonly attrs?: Attrs;
  /** Whether the function is pure (default true). */
  readonly pure?: boolean;
  /** Whether the function is private to the module (default false). */
  readonly private?: boolean;
}

interface FunctionFrame {
  readonly name: string;
  readonly params: readonly RVar[];
  readonly blocks: BindingBlock[];
  bindings: Binding[];
  output: Expr | undefined;
}

interface DataflowFrame {
  readonly bindings: Binding[];
  readonly dataflowVars: Set<AnyVar>;
}

/** Builds an IRModule of Relax functions (and the PrimFuncs they call). */
export class BlockBuilder {
  #mod: IRModule;
  #func: FunctionFrame | undefined;
  #dataflow: DataflowFrame | undefined;
  readonly #names = new Map<string, number>();
  readonly #hashes = new WeakMap<PrimFunc, number>();

  /** Starts from an empty module, or from `mod`. */
  constructor(mod?: IRModule) {
    this.#mod = mod ?? irModule();
  }

  /** A name based on `hint` not used by this builder yet (`lv`, `lv1`, ...). */
  freshName(hint: string): string {
    const n = this.#names.get(hint);
    this.#names.set(hint, (n ?? 0) + 1);
    return n === undefined ? hint : `${hint}${n}`;
  }

  /**
   * Builds function `name` over `params`; `body` emits bindings and returns the result.
   * Returns the function's GlobalVar.
   */
  function(
    name: string,
    params: readonly RVar[] | { readonly [name: string]: RVar },
    body: () => Expr,
    options: BuildFunctionOptions = {},
  ): GlobalVar {
    if (this.#func) {
      throw new Error(`Cannot start function "${name}" inside function "${this.#func.name}"`);
    }
    const ps = Array.isArray(params) ? params as readonly RVar[] : Object.values(params);
    for (const p of ps) {
      if (p.kind !== "relax.Var") {
        throw new Error(
          `Function "${name}": parameter "${(p as AnyVar).name}" must be a Relax Var`,
        );
      }
    }
    const frame: FunctionFrame = { name, params: ps, blocks: [], bindings: [], output: undefined };
    this.#func = frame;
    let out: Expr;
    try {
      const result = body();
      if (this.#dataflow) throw new Error(`Function "${name}": a dataflow block was left open`);
      const o = frame.output ?? result;
      if (o === undefined) throw new Error(`Function "${name}" returned no value`);
      if (o.kind === "relax.DataflowVar") {
        throw new Error(
          `Function "${name}" returns dataflow variable "${o.name}": emit it with emitOutput`,
        );
      }
      out = this.#leaf(o);
    } finally {
      this.#func = undefined;
      this.#dataflow = undefined;
    }
    this.#flushBindings(frame);
    const pure = options.pure ?? true;
    // As in TVM, a public function carries `global_symbol` (its name); a private one does not.
    const isPrivate = options.private ?? false;
    const attrs = options.attrs ?? {};
    const f = relaxFunction(ps, seqExpr(frame.blocks, out), {
      isPure: pure,
      attrs: isPrivate || Object.hasOwn(attrs, "global_symbol")
        ? attrs
        : { ...attrs, global_symbol: name },
      isPrivate,
    });
    return this.addFunc(f, name);
  }

  /** Marks `output` as the function's result (an alternative to returning it from the body). */
  emitFuncOutput(output: Expr): Expr {
    const f = this.#requireFunc("emitFuncOutput");
    if (this.#dataflow) throw new Error("emitFuncOutput must be called outside bb.dataflow()");
    if (f.output) throw new Error(`Function "${f.name}" already has an output`);
    f.output = output;
    return output;
  }

  /**
   * Opens a dataflow block for the duration of `body`. Values the body returns must be
   * non-dataflow variables made with `emitOutput`.
   */
  dataflow<T>(body: () => T): T {
    const f = this.#requireFunc("dataflow");
    if (this.#dataflow) throw new Error("Cannot nest bb.dataflow() blocks");
    this.#flushBindings(f);
    const frame: DataflowFrame = { bindings: [], dataflowVars: new Set() };
    this.#dataflow = frame;
    let r: T;
    try {
      r = body();
    } finally {
      this.#dataflow = undefined;
    }
    for (const v of Array.isArray(r) ? r : [r]) {
      if (v && typeof v === "object" && "kind" in v && v.kind === "relax.DataflowVar") {
        throw new Error(
          `Dataflow block returns dataflow variable "${
            (v as AnyVar).name
          }": emit it with emitOutput`,
        );
      }
    }
    f.blocks.push(dataflowBlock(frame.bindings));
    return r;
  }

  /** Binds `expr` (normalized) to a new variable and returns it (a DataflowVar inside dataflow). */
  emit(expr: Expr, name?: string): AnyVar {
    const f = this.#requireFunc("emit");
    const value = this.normalize(expr);
    const n = this.freshName(name ?? "lv");
    const v = this.#dataflow ? dataflowVar(n, value.structInfo) : rvar(n, value.structInfo);
    this.#push(f, varBinding(v, value));
    if (this.#dataflow && v.kind === "relax.DataflowVar") this.#dataflow.dataflowVars.add(v);
    return v;
  }

  /** Inside a dataflow block: binds `expr` to a variable visible after the block. */
  emitOutput(expr: Expr, name?: string): RVar {
    const f = this.#requireFunc("emitOutput");
    if (!this.#dataflow) throw new Error("emitOutput must be called inside bb.dataflow()");
    const value = this.normalize(expr);
    const v = rvar(this.freshName(name ?? "gv"), value.structInfo);
    this.#push(f, varBinding(v, value));
    return v;
  }

  /** Binds `R.match_cast(value, sinfo)` and returns the refined variable. */
  matchCast(value: Expr, sinfo: StructInfo, name?: string): AnyVar {
    const f = this.#requireFunc("matchCast");
    const val = this.#leaf(this.normalize(value));
    const n = this.freshName(name ?? "lv");
    const v = this.#dataflow ? dataflowVar(n, sinfo) : rvar(n, sinfo);
    this.#push(f, matchCastBinding(v, val, sinfo));
    return v;
  }

  /**
   * Normalizes an expression to A-normal form: nested calls (and other non-leaf values in call
   * arguments and tuples) are emitted first and replaced by their variables.
   */
  normalize(expr: Expr): Expr {
    const f = this.#func;
    switch (expr.kind) {
      case "relax.Call": {
        if (!f) return expr;
        const args = expr.args.map((a) => this.#leaf(a));
        const op = expr.op.kind === "relax.Call" ? this.#leaf(expr.op) : expr.op;
        if (args.every((a, i) => a === expr.args[i]) && op === expr.op) return expr;
        return { ...expr, op, args };
      }
      case "relax.TupleGetItem": {
        if (!f) return expr;
        const t = this.#leaf(expr.tuple);
        return t === expr.tuple ? expr : { ...expr, tuple: t };
      }
      case "relax.Tuple": {
        if (!f) return expr;
        const fields = expr.fields.map((a) => this.#leaf(a));
        return fields.every((a, i) => a === expr.fields[i]) ? expr : tuple(fields);
      }
      default:
        return expr;
    }
  }

  /**
   * Builds a `call_tir` of a te computation: each tensor argument becomes a `te.placeholder` of
   * its shape (symbolic dimensions included), `fn` computes the output tensor(s), and the
   * PrimFunc made by `te.createPrimFunc` is added to the module (private, named after
   * `options.name`, deduplicated by name).
   */
  callTe(
    fn: (...inputs: TeTensor[]) => TeTensor | readonly TeTensor[],
    args: readonly Expr[],
    options: { readonly name?: string } = {},
  ): RCall {
    const name = options.name ?? "te_func";
    const inputs = args.map((a, i) => {
      const s = a.structInfo;
      if (s.kind !== "TensorStructInfo" || !s.shape || s.dtype === "void") {
        throw new Error(
          `callTe "${name}": argument ${i} must be a tensor of known shape and dtype`,
        );
      }
      const label = a.kind === "relax.Var" || a.kind === "relax.DataflowVar" ? a.name : `x${i}`;
      return placeholder(s.shape, s.dtype, label);
    });
    const out = fn(...inputs);
    const outs: readonly TeTensor[] = Array.isArray(out)
      ? out as readonly TeTensor[]
      : [out as TeTensor];
    // Variables the computation uses that no buffer dimension binds travel as tir_vars.
    const extra = freeScalarVars([...inputs, ...outs]);
    const f = createPrimFunc([...inputs, ...outs, ...extra], { name });
    const { global_symbol: _symbol, ...attrs } = f.attrs;
    const gv = this.addFunc({ ...f, attrs, isPrivate: true }, name);
    const sinfo = outs.map((t) => tensorSInfo(t.shape, t.dtype));
    return callTIR(
      gv,
      args.map((a) => this.#func ? this.#leaf(a) : a),
      sinfo.length === 1 ? sinfo[0]! : sinfo,
      extra.length ? { tirVars: extra } : {},
    );
  }

  /** Emits {@link BlockBuilder.callTe} and returns the bound variable. */
  emitTe(
    fn: (...inputs: TeTensor[]) => TeTensor | readonly TeTensor[],
    args: readonly Expr[],
    options: { readonly name?: string; readonly varName?: string } = {},
  ): AnyVar {
    const call = this.callTe(fn, args, options.name === undefined ? {} : { name: options.name });
    return this.emit(call, options.varName);
  }

  /**
   * Adds a function under a fresh name based on `name`. A PrimFunc structurally equal to one the
   * module already has is not added again: its existing GlobalVar is returned (as TVM does).
   */
  addFunc(func: BaseFunc, name: string): GlobalVar {
    if (func.kind === "PrimFunc") {
      const h = structuralHash(func);
      for (const [n, g] of this.#mod.functions) {
        if (g.kind === "PrimFunc" && this.#hashOf(g) === h && structuralEqual(g, func)) {
          return globalVar(n);
        }
      }
    }
    const n = this.#mod.functions.has(name) && this.#mod.functions.get(name) !== func
      ? freshGlobalName(this.#mod, name)
      : name;
    this.#mod = withFunction(this.#mod, n, func);
    return globalVar(n, func.kind === "relax.Function" ? func.structInfo : undefined);
  }

  #hashOf(f: PrimFunc): number {
    let h = this.#hashes.get(f);
    if (h === undefined) this.#hashes.set(f, h = structuralHash(f));
    return h;
  }

  /** Adds a PrimFunc (e.g. a te-generated kernel) and returns its GlobalVar. */
  addPrimFunc(func: PrimFunc, name: string): GlobalVar {
    return this.addFunc(func, name);
  }

  /** Replaces the function named `name`. */
  updateFunc(name: string, func: BaseFunc): void {
    if (!this.#mod.functions.has(name)) {
      throw new Error(`Module has no function "${name}" to update`);
    }
    this.#mod = withFunction(this.#mod, name, func);
  }

  /** The module built so far. */
  get(): IRModule {
    if (this.#func) {
      throw new Error(`Cannot get the module while function "${this.#func.name}" is being built`);
    }
    return this.#mod;
  }

  #requireFunc(what: string): FunctionFrame {
    if (!this.#func) throw new Error(`${what} must be called inside bb.function()`);
    return this.#func;
  }

  #push(f: FunctionFrame, b: Binding): void {
    if (this.#dataflow) this.#dataflow.bindings.push(b);
    else f.bindings.push(b);
  }

  #flushBindings(f: FunctionFrame): void {
    if (f.bindings.length) {
      f.blocks.push(bindingBlock(f.bindings));
      f.bindings = [];
    }
  }

  #leaf(e: Expr): Expr {
    switch (e.kind) {
      case "relax.Call":
      case "relax.If":
      case "relax.SeqExpr":
      case "relax.TupleGetItem":
        return this.emit(e);
      case "relax.Tuple":
        return this.normalize(e);
      default:
        return e;
    }
  }
}

/** Symbolic variables that occur in a StructInfo (in first-occurrence order). */
export function structInfoVars(s: StructInfo): PrimExpr[] {
  const out: PrimExpr[] = [];
  rewriteStructInfo(s, (e) => {
    visitPrimExpr(e, (x) => {
      if (x.kind === "Var" && !out.includes(x)) out.push(x);
    });
    return e;
  });
  return out;
}

/**
 * Variables a te computation needs that no buffer dimension defines (only a dimension that is
 * exactly a variable defines it): symbolic scalars (a `clip` bound) or variables inside shape
 * expressions (`n - 1`). They become scalar parameters and travel as the call's `tir_vars`.
 */
function freeScalarVars(tensors: readonly TeTensor[]): Var[] {
  const bound = new Set<Var>(), used: Var[] = [], seen = new Set<Operation>();
  const use = (e: PrimExpr) =>
    visitPrimExpr(e, (x) => void (x.kind === "Var" && !used.includes(x) && used.push(x)));
  const visit = (t: TeTensor) => {
    for (const d of t.shape) d.kind === "Var" ? bound.add(d) : use(d);
    const op = t.op;
    if (seen.has(op)) return;
    seen.add(op);
    if (op.kind !== "te.ComputeOp") return;
    for (const iv of [...op.axes, ...op.reduceAxes]) {
      bound.add(iv.var);
      use(iv.dom.min);
      use(iv.dom.extent);
    }
    for (const b of op.body) {
      if (!isReduce(b)) use(b);
      else {
        b.combiner.lhs.forEach((v) => bound.add(v));
        b.combiner.rhs.forEach((v) => bound.add(v));
        [...b.source, b.condition, ...(b.init ?? []), ...b.combiner.identity].forEach(use);
      }
    }
    op.inputs.forEach(visit);
  };
  tensors.forEach(visit);
  return used.filter((v) => !bound.has(v) && v.dtype !== "handle");
}

/** Whether `e` is a variable bound by a dataflow block. */
export function isDataflowVar(e: Expr): boolean {
  return isVar(e) && e.kind === "relax.DataflowVar";
}

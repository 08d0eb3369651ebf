/**
 * `VMShapeLower`: makes symbolic shapes explicit for the VM (after TVM's
 * `relax.transform.VMShapeLower`). Every symbolic variable of a function gets a slot in a
 * per-call *shape heap*; the pass then emits, as `R.call_packed` calls of VM builtins:
 *
 * - at function entry, checks of each parameter against its StructInfo
 *   (`vm.builtin.check_tensor_info`, `check_shape_info`, `check_prim_value_info`,
 *   `check_tuple_info`), then `vm.builtin.match_shape` / `match_prim_value`, which store the
 *   first occurrence of each variable in its slot and compare the others;
 * - for `R.match_cast`, the same checks and matches on the value;
 * - for every shape or scalar computed from symbolic values (an allocation's shape, a PrimFunc's
 *   `tir_vars`, a returned shape), `vm.builtin.make_shape` / `make_prim_value` from the heap.
 *   Composite dimensions (`n * 4 + 1`) are first computed into a slot by
 *   `vm.builtin.eval_shape_expr`, whose program is a JSON expression over slots `"s0"`, `"s1"`,
 *   ... (the `KernelExpr` format of the runtime).
 *
 * Error contexts travel as strings (`main: parameter "x" expects R.Tensor((n, 784), "float32")`),
 * so a failing check names the function, the parameter and the expected StructInfo.
 *
 * @module
 */

import { isFloat, isInt } from "../../ir/dtype.ts";
import type { PrimExpr, Var } from "../../ir/expr.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  dataflowVar,
  dataTypeImm,
  type Expr,
  type Function,
  rvar,
  type SeqExpr,
  tupleGetItem,
  varBinding,
} from "../../ir/relax/expr.ts";
import { compactPrimExpr, compactStructInfo } from "../../ir/structural/show.ts";
import { objectSInfo, primSInfo, shapeSInfo, type StructInfo } from "../../ir/relax/struct_info.ts";
import { visitPrimExpr } from "../../ir/visit.ts";
import { type Pass, relaxFunctionPass } from "../pass.ts";
import { callBuiltin, VOID_SINFO } from "./builtin_ops.ts";

/** What `vm.builtin.match_shape` / `match_prim_value` do with one dimension. */
export const MatchKind = {
  /** Check that the dimension equals the immediate value. */
  assertEqualToImm: 0,
  /** Store the dimension in the heap slot. */
  storeToHeap: 1,
  /** Check that the dimension equals the value in the heap slot. */
  assertEqualToLoad: 2,
  /** Nothing (the dimension is checked later). */
  noOp: 3,
} as const;

/** Where `vm.builtin.make_shape` / `make_prim_value` take one value from. */
export const MakeKind = {
  /** The immediate value. */
  useImm: 0,
  /** The heap slot. */
  loadFromHeap: 1,
} as const;

/** A JSON expression over heap slots (`"s0"`), as the runtime's `KernelExpr`. */
type SlotExpr = number | string | readonly [string, ...SlotExpr[]];

const SLOT_OPS: { readonly [k: string]: string } = {
  Add: "add",
  Sub: "sub",
  Mul: "mul",
  Mod: "mod",
  FloorDiv: "floordiv",
  FloorMod: "floormod",
  Min: "min",
  Max: "max",
  EQ: "eq",
  NE: "ne",
  LT: "lt",
  LE: "le",
  GT: "gt",
  GE: "ge",
  And: "and",
  Or: "or",
};

/** A dimension as text, without outer parentheses: `n * 2 + 1`. */
function fmtDim(e: PrimExpr): string {
  const t = compactPrimExpr(e);
  return t.startsWith("(") && t.endsWith(")") && e.kind !== "Call" ? t.slice(1, -1) : t;
}

function freeVars(e: PrimExpr): Var[] {
  const out: Var[] = [];
  visitPrimExpr(e, (x) => {
    if (x.kind === "Var" && !out.includes(x)) out.push(x);
  });
  return out;
}

/** A scope of the lowering: defined variables, values computed and shapes made so far. */
interface Scope {
  readonly defined: Set<Var>;
  readonly computed: Map<string, number>;
  readonly shapes: Map<string, AnyVar>;
}

function innerScope(s: Scope): Scope {
  return { defined: new Set(s.defined), computed: new Map(s.computed), shapes: new Map(s.shapes) };
}

class FunctionLowering {
  readonly slots = new Map<Var, number>();
  nslots = 0;
  readonly #heap: AnyVar = rvar("shape_heap", objectSInfo());
  #usesHeap = false;

  /** The shape heap variable (allocated at entry once anything uses it). */
  get heap(): AnyVar {
    this.#usesHeap = true;
    return this.#heap;
  }
  #out: Binding[] = [];
  #dataflow = false;

  constructor(readonly fname: string) {}

  /** Lowers the function. */
  run(f: Function): Function {
    const body = f.body as SeqExpr;
    const scope: Scope = { defined: new Set(), computed: new Map(), shapes: new Map() };
    const prologue: Binding[] = [];
    this.#out = prologue;
    this.#matchAll(
      f.params.map((p) => ({
        value: p as Expr,
        sinfo: p.structInfo,
        ctx: `${this.fname}: parameter "${p.name}"`,
      })),
      scope,
    );
    const seq = this.#seq(body, scope);
    if (this.#usesHeap) {
      prologue.unshift(
        varBinding(this.#heap, callBuiltin("alloc_shape_heap", [this.nslots], objectSInfo())),
      );
    }
    if (prologue.length === 0 && seq === body) return f;
    const [first, ...rest] = seq.blocks;
    const blocks: BindingBlock[] = prologue.length === 0
      ? [...seq.blocks]
      : first?.kind === "BindingBlock"
      ? [{ ...first, bindings: [...prologue, ...first.bindings] }, ...rest]
      : [{ kind: "BindingBlock", bindings: prologue }, ...seq.blocks];
    return { ...f, body: { ...seq, blocks } };
  }

  #emit(value: Expr, sinfo: StructInfo = value.structInfo, name = "_"): AnyVar {
    const v = this.#dataflow ? dataflowVar(name, sinfo) : rvar(name, sinfo);
    this.#out.push(varBinding(v, value));
    return v;
  }

  #slotOf(v: Var): number {
    let s = this.slots.get(v);
    if (s === undefined) this.slots.set(v, s = this.nslots++);
    return s;
  }

  #slotExpr(e: PrimExpr, what: string): SlotExpr {
    const go = (x: PrimExpr) => this.#slotExpr(x, what);
    switch (e.kind) {
      case "IntImm":
        return e.value;
      case "Var":
        return `s${this.slots.get(e)}`;
      case "Div":
        return [isInt(e.dtype) ? "div" : "fdiv", go(e.a), go(e.b)];
      case "Cast":
        return isInt(e.dtype) && isInt(e.value.dtype)
          ? go(e.value)
          : [isFloat(e.dtype) ? "float" : "int", go(e.value)];
      case "Select":
        return ["select", go(e.cond), go(e.t), go(e.f)];
      case "Not":
        return ["not", go(e.a)];
      default: {
        const op = SLOT_OPS[e.kind];
        if (op && "a" in e && "b" in e) return [op, go(e.a), go(e.b)];
        throw new Error(
          `${this.fname}: cannot compute ${what} "${fmtDim(e)}" in the VM (${e.kind})`,
        );
      }
    }
  }

  /** The heap slot holding composite `e` (all of whose variables are defined), computed once per scope. */
  #computed(e: PrimExpr, scope: Scope, what: string): number {
    const prog = JSON.stringify(this.#slotExpr(e, what));
    let s = scope.computed.get(prog);
    if (s === undefined) {
      s = this.nslots++;
      scope.computed.set(prog, s);
      this.#emit(callBuiltin("eval_shape_expr", [this.heap, s, prog]), VOID_SINFO);
    }
    return s;
  }

  /** `(kind, value)` of a value to be made from the heap. */
  #makeArg(e: PrimExpr, scope: Scope, what: string): [number, number] {
    if (e.kind === "IntImm") return [MakeKind.useImm, e.value];
    for (const v of freeVars(e)) {
      if (!scope.defined.has(v)) {
        throw new Error(
          `${this.fname}: ${what} uses "${v.name}", which no parameter or match_cast defines`,
        );
      }
    }
    if (e.kind === "Var") return [MakeKind.loadFromHeap, this.slots.get(e)!];
    return [MakeKind.loadFromHeap, this.#computed(e, scope, what)];
  }

  /** Checks every item's kind, then matches their shapes (deferring composite dimensions). */
  #matchAll(items: { value: Expr; sinfo: StructInfo; ctx: string }[], scope: Scope): void {
    // Values with shapes to match: `ctx` names the value, `what` adds what it should be.
    const leaves: { value: Expr; sinfo: StructInfo; ctx: string; what: string }[] = [];
    const check = (value: Expr, s: StructInfo, ctx: string): void => {
      const what = `${ctx} expects ${compactStructInfo(s)}`;
      switch (s.kind) {
        case "TensorStructInfo":
          this.#emit(callBuiltin("check_tensor_info", [value, s.ndim, dataTypeImm(s.dtype), what]));
          if (s.shape) leaves.push({ value, sinfo: s, ctx, what });
          return;
        case "ShapeStructInfo":
          this.#emit(callBuiltin("check_shape_info", [value, s.ndim, what]));
          if (s.values) leaves.push({ value, sinfo: s, ctx, what });
          return;
        case "PrimStructInfo":
          this.#emit(callBuiltin("check_prim_value_info", [value, dataTypeImm(s.dtype), what]));
          if (s.value) leaves.push({ value, sinfo: s, ctx, what });
          return;
        case "TupleStructInfo":
          this.#emit(callBuiltin("check_tuple_info", [value, s.fields.length, what]));
          s.fields.forEach((fs, i) => {
            if (fs.kind === "ObjectStructInfo" || fs.kind === "FuncStructInfo") return;
            const fv = this.#emit(tupleGetItem(value, i), fs, "field");
            check(fv, fs, `${ctx} field ${i}`);
          });
          return;
        case "ObjectStructInfo":
        case "FuncStructInfo":
          return;
        default:
          s satisfies never;
      }
    };
    for (const it of items) check(it.value, it.sinfo, it.ctx);
    const deferred: {
      value: Expr;
      dims: readonly PrimExpr[];
      isPrim: boolean;
      ctx: string;
      what: string;
      later: number[];
    }[] = [];
    for (const leaf of leaves) {
      const { dims, isPrim } = dimsOf(leaf.sinfo);
      const later: number[] = [];
      const args = dims.map((d, i): [number, number] => {
        if (d.kind === "IntImm") return [MatchKind.assertEqualToImm, d.value];
        if (d.kind === "Var") {
          if (scope.defined.has(d)) return [MatchKind.assertEqualToLoad, this.slots.get(d)!];
          scope.defined.add(d);
          return [MatchKind.storeToHeap, this.#slotOf(d)];
        }
        if (freeVars(d).every((v) => scope.defined.has(v))) {
          return [MatchKind.assertEqualToLoad, this.#computed(d, scope, "dimension")];
        }
        later.push(i);
        return [MatchKind.noOp, 0];
      });
      this.#emitMatch(leaf.value, args, isPrim, leaf.what);
      if (later.length) deferred.push({ ...leaf, dims, isPrim, later });
    }
    for (const d of deferred) {
      const args = d.dims.map((e, i): [number, number] => {
        if (!d.later.includes(i)) return [MatchKind.noOp, 0];
        const undef = freeVars(e).find((v) => !scope.defined.has(v));
        if (undef) {
          throw new Error(
            `${d.ctx}: cannot check dimension "${
              fmtDim(e)
            }": "${undef.name}" is not defined by a parameter or match_cast`,
          );
        }
        return [MatchKind.assertEqualToLoad, this.#computed(e, scope, "dimension")];
      });
      this.#emitMatch(d.value, args, d.isPrim, d.what);
    }
  }

  #emitMatch(value: Expr, args: readonly [number, number][], isPrim: boolean, ctx: string): void {
    if (args.every(([k]) => k === MatchKind.noOp)) return;
    if (isPrim) {
      const [k, v] = args[0]!;
      this.#emit(callBuiltin("match_prim_value", [value, this.heap, k, v, ctx]));
    } else {
      this.#emit(callBuiltin("match_shape", [value, this.heap, args.length, ...args.flat(), ctx]));
    }
  }

  /** A leaf with symbolic shapes and scalars replaced by values made from the heap. */
  #leaf(e: Expr, scope: Scope): Expr {
    switch (e.kind) {
      case "relax.ShapeExpr": {
        if (e.values.every((v) => v.kind === "IntImm")) return e;
        const what = `shape (${e.values.map(fmtDim).join(", ")})`;
        const args = e.values.flatMap((v) => this.#makeArg(v, scope, what));
        // A shape made outside dataflow blocks is reused by later uses in the scope.
        const key = JSON.stringify(args);
        const made = scope.shapes.get(key);
        if (made) return made;
        const sinfo = shapeSInfo(e.values);
        const v = this.#emit(
          callBuiltin("make_shape", [this.heap, e.values.length, ...args], sinfo),
          sinfo,
          "shape",
        );
        if (!this.#dataflow) scope.shapes.set(key, v);
        return v;
      }
      case "relax.PrimValue": {
        if (e.value.kind === "IntImm" || e.value.kind === "FloatImm") return e;
        const [k, v] = this.#makeArg(e.value, scope, `value ${fmtDim(e.value)}`);
        const sinfo = primSInfo(e.value.dtype, e.value);
        return this.#emit(callBuiltin("make_prim_value", [this.heap, k, v], sinfo), sinfo, "value");
      }
      case "relax.Tuple": {
        const fields = e.fields.map((x) => this.#leaf(x, scope));
        return fields.every((x, i) => x === e.fields[i]) ? e : { ...e, fields };
      }
      default:
        return e;
    }
  }

  #value(e: Expr, scope: Scope): Expr {
    switch (e.kind) {
      case "relax.Call": {
        const args = e.args.map((a) => this.#leaf(a, scope));
        return args.every((a, i) => a === e.args[i]) ? e : { ...e, args };
      }
      case "relax.If": {
        const inner = (b: Expr): Expr => {
          if (b.kind !== "relax.SeqExpr") return b;
          const saved = this.#out, dataflow = this.#dataflow;
          const r = this.#seq(b, innerScope(scope));
          this.#out = saved;
          this.#dataflow = dataflow;
          return r;
        };
        const t = inner(e.thenBranch), f = inner(e.elseBranch);
        return t === e.thenBranch && f === e.elseBranch
          ? e
          : { ...e, thenBranch: t, elseBranch: f };
      }
      default:
        return this.#leaf(e, scope);
    }
  }

  #seq(seq: SeqExpr, scope: Scope): SeqExpr {
    let changed = false;
    const blocks: BindingBlock[] = seq.blocks.map((blk) => {
      const out: Binding[] = [];
      this.#out = out;
      this.#dataflow = blk.kind === "DataflowBlock";
      for (const b of blk.bindings) {
        if (b.kind === "MatchCast") {
          changed = true;
          const value = isLeafVar(b.value)
            ? b.value
            : this.#emit(this.#value(b.value, scope), b.value.structInfo, "lv");
          this.#matchAll([{
            value,
            sinfo: b.structInfo,
            ctx: `${this.fname}: R.match_cast to "${b.var.name}"`,
          }], scope);
          out.push(varBinding(b.var, value));
          continue;
        }
        const value = this.#value(b.value, scope);
        if (value !== b.value) changed = true;
        out.push(value === b.value ? b : { ...b, value });
      }
      this.#dataflow = false;
      return changed ? { ...blk, bindings: out } : blk;
    });
    const tail: Binding[] = [];
    this.#out = tail;
    const body = this.#value(seq.body, scope);
    const last = blocks[blocks.length - 1];
    if (tail.length && last?.kind === "BindingBlock") {
      blocks[blocks.length - 1] = { ...last, bindings: [...last.bindings, ...tail] };
    } else if (tail.length) {
      blocks.push({ kind: "BindingBlock", bindings: tail });
    }
    if (!changed && body === seq.body && tail.length === 0) return seq;
    return { ...seq, blocks, body };
  }
}

function isLeafVar(e: Expr): boolean {
  return e.kind === "relax.Var" || e.kind === "relax.DataflowVar";
}

function dimsOf(s: StructInfo): { dims: readonly PrimExpr[]; isPrim: boolean } {
  switch (s.kind) {
    case "TensorStructInfo":
      return { dims: s.shape ?? [], isPrim: false };
    case "ShapeStructInfo":
      return { dims: s.values ?? [], isPrim: false };
    case "PrimStructInfo":
      return { dims: s.value ? [s.value] : [], isPrim: true };
    default:
      return { dims: [], isPrim: false };
  }
}

/** `f` lowered for the VM (see the module documentation); `name` is used in error contexts. */
export function vmShapeLowerFunction(f: Function, name = "function"): Function {
  if (f.body.kind !== "relax.SeqExpr") return f;
  return new FunctionLowering(name).run(f);
}

/** The `VMShapeLower` pass over every Relax function of the module. */
export const vmShapeLower: Pass = relaxFunctionPass(
  "VMShapeLower",
  (f, name) => vmShapeLowerFunction(f, name),
);

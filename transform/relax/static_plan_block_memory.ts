/**
 * `StaticPlanBlockMemory`: lets tensors whose lifetimes do not overlap share storage (TVM's
 * `relax.transform.StaticPlanBlockMemory`).
 *
 * Each `R.builtin.alloc_tensor` among a function's top-level bindings whose size is known
 * becomes `R.memory.alloc_tensor` of a storage made by `R.memory.alloc_storage`; storages are
 * reused once every alias of the tensors using them is dead, and released with
 * `R.memory.kill_storage` at the end of the function. A size is known when the shape is
 * constant, or when every symbolic dimension has an upper bound in the function attribute
 * `tir_var_upper_bound` (`{ n: 1024 }`): the storage then takes the bound's size and the tensor
 * keeps its symbolic shape. Tensors that may be returned (through any alias) are never planned,
 * nor are allocations with unbounded symbolic sizes: the VM allocates those per call.
 *
 * Storage is shared only between tensors of the same dtype; a storage grows to the largest
 * tensor placed in it.
 *
 * @module
 */

import { type DType, dtypeBytes } from "../../ir/dtype.ts";
import type { PrimExpr } from "../../ir/expr.ts";
import type { IRModule } from "../../ir/module.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  type Expr,
  type Function,
  isVar,
  rvar,
  type SeqExpr,
  varBinding,
} from "../../ir/relax/expr.ts";
import { objectSInfo } from "../../ir/relax/struct_info.ts";
import type { AttrValue } from "../../ir/tir/stmt.ts";
import { visitExpr } from "../../ir/visit.ts";
import { type Pass, relaxFunctionPass } from "../pass.ts";
import { allocStorage, allocTensorFromStorage, killStorage, VOID_SINFO } from "./builtin_ops.ts";

/** An allocation that may be planned. */
interface Token {
  readonly binding: Binding;
  readonly dtype: DType;
  readonly bytes: number;
  readonly first: number;
  last: number;
  escapes: boolean;
  storage: Storage | undefined;
}

interface Storage {
  readonly dtype: DType;
  bytes: number;
  var: AnyVar | undefined;
}

/** The largest value `e` takes with its variables at most their bounds; undefined if unknown. */
function upperBound(e: PrimExpr, bounds: ReadonlyMap<string, number>): number | undefined {
  switch (e.kind) {
    case "IntImm":
      return e.value >= 0 ? e.value : undefined;
    case "Var":
      return bounds.get(e.name);
    case "Add":
    case "Mul":
    case "Max":
    case "Min": {
      const a = upperBound(e.a, bounds), b = upperBound(e.b, bounds);
      if (a === undefined || b === undefined) return undefined;
      return e.kind === "Add"
        ? a + b
        : e.kind === "Mul"
        ? a * b
        : e.kind === "Max"
        ? Math.max(a, b)
        : Math.min(a, b);
    }
    case "FloorDiv":
    case "Div": {
      const a = upperBound(e.a, bounds);
      if (a === undefined || e.b.kind !== "IntImm" || e.b.value <= 0) return undefined;
      return Math.floor(a / e.b.value);
    }
    case "Cast":
      return upperBound(e.value, bounds);
    default:
      return undefined;
  }
}

function attrInt(v: AttrValue): number | undefined {
  if (typeof v === "number") return v;
  if (v !== null && typeof v === "object" && !Array.isArray(v) && "kind" in v) {
    const e = v as PrimExpr;
    if (e.kind === "IntImm") return e.value;
  }
  return undefined;
}

function boundsOf(f: Function, name: string): Map<string, number> {
  const out = new Map<string, number>();
  const attr: AttrValue | undefined = f.attrs["tir_var_upper_bound"];
  if (attr === undefined || attr === null) return out;
  if (typeof attr !== "object" || Array.isArray(attr) || "kind" in attr) {
    throw new Error(`${name}: attribute "tir_var_upper_bound" must map variable names to integers`);
  }
  for (const [k, v] of Object.entries(attr as { readonly [k: string]: AttrValue })) {
    const n = attrInt(v);
    if (n === undefined || !Number.isInteger(n) || n < 0) {
      throw new Error(`${name}: upper bound of "${k}" must be a non-negative integer`);
    }
    out.set(k, n);
  }
  return out;
}

/** The op name of a call of a registered operator, or undefined. */
function opName(e: Expr): string | undefined {
  return e.kind === "relax.Call" && e.op.kind === "relax.Op" ? e.op.name : undefined;
}

/** Size in bytes and dtype of a plannable `R.builtin.alloc_tensor`, or undefined. */
function plannable(
  value: Expr,
  bounds: ReadonlyMap<string, number>,
): { dtype: DType; bytes: number } | undefined {
  if (value.kind !== "relax.Call" || opName(value) !== "relax.builtin.alloc_tensor") {
    return undefined;
  }
  const [shape, dtype] = value.args;
  if (shape?.kind !== "relax.ShapeExpr" || dtype?.kind !== "relax.DataTypeImm") return undefined;
  let n = 1;
  for (const d of shape.values) {
    const b = upperBound(d, bounds);
    if (b === undefined) return undefined;
    n *= b;
  }
  return { dtype: dtype.value, bytes: n * dtypeBytes(dtype.value) };
}

/** Variables `e` uses (anywhere below it, nested branches included). */
function usedVars(e: Expr): AnyVar[] {
  const out: AnyVar[] = [];
  visitExpr(e, (x) => {
    if (isVar(x)) out.push(x);
  });
  return out;
}

/** Options of {@link planFunctionMemory}. */
export interface PlanMemoryOptions {
  /** The function's name in messages. */
  readonly name?: string;
  /** The module, to tell calls of PrimFuncs (which return nothing) from other calls. */
  readonly mod?: IRModule;
}

/** Plans the top-level bindings of `f`; returns `f` itself when nothing is planned. */
export function planFunctionMemory(f: Function, options: PlanMemoryOptions = {}): Function {
  const name = options.name ?? "function";
  const body = f.body;
  if (body.kind !== "relax.SeqExpr") return f;
  const bounds = boundsOf(f, name);
  const flat: Binding[] = body.blocks.flatMap((b) => b.bindings);
  const tokensOf = new Map<AnyVar, Set<Token>>();
  const tokens: Token[] = [];
  const union = (vars: readonly Expr[]): Set<Token> => {
    const s = new Set<Token>();
    for (const v of vars) if (isVar(v)) { for (const t of tokensOf.get(v) ?? []) s.add(t); }
    return s;
  };
  flat.forEach((b, pos) => {
    const size = plannable(b.value, bounds);
    if (size) {
      const t: Token = {
        binding: b,
        ...size,
        first: pos,
        last: pos,
        escapes: false,
        storage: undefined,
      };
      tokens.push(t);
      tokensOf.set(b.var, new Set([t]));
      return;
    }
    const used = usedVars(b.value);
    for (const t of union(used)) t.last = Math.max(t.last, pos);
    const v = b.value;
    let aliases: Set<Token>;
    if (
      isVar(v) || v.kind === "relax.Tuple" || v.kind === "relax.TupleGetItem" ||
      v.kind === "relax.If"
    ) {
      aliases = union(used);
    } else if (v.kind === "relax.Call") {
      // A PrimFunc call writes its outputs in place and returns nothing; memory builtins return
      // fresh objects; any other call may return one of its arguments.
      const calleeIsPrimFunc = v.op.kind === "GlobalVar" &&
        options.mod?.functions.get(v.op.name)?.kind === "PrimFunc";
      aliases = calleeIsPrimFunc || opName(v)?.startsWith("relax.memory.")
        ? new Set()
        : union(used);
    } else {
      aliases = new Set();
    }
    if (aliases.size) tokensOf.set(b.var, aliases);
  });
  for (const t of union(usedVars(body.body))) t.escapes = true;

  // Greedy assignment in program order.
  const free: Storage[] = [];
  const live: Token[] = [];
  const storages: Storage[] = [];
  for (const t of tokens) {
    if (t.escapes) continue;
    for (let i = live.length - 1; i >= 0; i--) {
      const u = live[i]!;
      if (u.last < t.first) {
        live.splice(i, 1);
        free.push(u.storage!);
      }
    }
    const same = free.filter((s) => s.dtype === t.dtype);
    const fits = same.filter((s) => s.bytes >= t.bytes).sort((a, b) => a.bytes - b.bytes);
    let s = fits[0] ?? same.sort((a, b) => b.bytes - a.bytes)[0];
    if (s) {
      free.splice(free.indexOf(s), 1);
      s.bytes = Math.max(s.bytes, t.bytes);
    } else {
      s = { dtype: t.dtype, bytes: t.bytes, var: undefined };
      storages.push(s);
    }
    t.storage = s;
    live.push(t);
  }
  if (storages.length === 0) return f;

  // Rewrite: storage allocated before its first tensor, killed at the end.
  const byBinding = new Map<Binding, Token>();
  for (const t of tokens) if (t.storage) byBinding.set(t.binding, t);
  const blocks: BindingBlock[] = body.blocks.map((blk) => {
    const out: Binding[] = [];
    for (const b of blk.bindings) {
      const t = byBinding.get(b);
      if (!t || b.value.kind !== "relax.Call") {
        out.push(b);
        continue;
      }
      const s = t.storage!;
      if (!s.var) {
        s.var = rvar("storage", objectSInfo());
        out.push(varBinding(s.var, allocStorage(s.bytes, s.dtype)));
      }
      const [shape] = b.value.args;
      out.push({ ...b, value: allocTensorFromStorage(s.var, shape!, t.dtype) });
    }
    return { ...blk, bindings: out };
  });
  const kills = storages.map((s) => varBinding(rvar("_", VOID_SINFO), killStorage(s.var!)));
  const last = blocks[blocks.length - 1]!;
  const lastBlocks = last.kind === "DataflowBlock"
    ? [...blocks, { kind: "BindingBlock" as const, bindings: kills }]
    : [...blocks.slice(0, -1), { ...last, bindings: [...last.bindings, ...kills] }];
  const seq: SeqExpr = { ...body, blocks: lastBlocks };
  return { ...f, body: seq };
}

/** The `StaticPlanBlockMemory` pass over every Relax function of the module. */
export const staticPlanBlockMemory: Pass = relaxFunctionPass(
  "StaticPlanBlockMemory",
  (f, name, mod) => planFunctionMemory(f, { name, mod }),
);

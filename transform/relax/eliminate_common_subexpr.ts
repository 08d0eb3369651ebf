/**
 * `EliminateCommonSubexpr`: a binding whose value (and `match_cast` StructInfo) is structurally
 * equal to an earlier binding's becomes a trivial binding `y = x`, and later uses of `y` use
 * `x` (`CanonicalizeBindings` and `DeadCodeElimination` then remove the trivial binding).
 *
 * Values with side effects and allocations are never merged. A dataflow variable is not reused
 * after its block; the branches of an `if` see the bindings before it but not each other's;
 * a nested function starts afresh. With `callOnly`, only calls are merged.
 *
 * @module
 */

import type { IRModule } from "../../ir/module.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  type Expr,
  type Function,
  isVar,
  type SeqExpr,
  varBinding,
} from "../../ir/relax/expr.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import { structuralEqual, structuralHash } from "../../ir/structural.ts";
import { rewriteExpr } from "../../ir/visit.ts";
import { type Pass, relaxFunctionPass } from "../pass.ts";
import { containsImpureCall } from "./_relax_util.ts";

/** Options of {@link eliminateCommonSubexpr}. */
export interface EliminateCommonSubexprOptions {
  /** Merge only bindings whose values are calls (default false). */
  readonly callOnly?: boolean;
}

const ALLOCATORS: ReadonlySet<string> = new Set([
  "relax.builtin.alloc_tensor",
  "relax.memory.alloc_storage",
  "relax.memory.alloc_tensor",
  "relax.vm.alloc_storage",
  "relax.vm.alloc_tensor",
]);

interface Entry {
  readonly value: Expr;
  readonly cast: StructInfo | undefined;
  readonly vars: AnyVar[];
}

type Table = Map<number, Entry[]>;

function copyTable(t: Table): Table {
  return new Map([...t].map(([k, es]) => [k, es.map((e) => ({ ...e, vars: [...e.vars] }))]));
}

class Eliminator {
  #table: Table = new Map();
  #remap = new Map<AnyVar, AnyVar>();

  constructor(readonly callOnly: boolean, readonly mod: IRModule | undefined) {}

  function(f: Function): Function {
    const body = this.#expr(f.body);
    return body === f.body ? f : { ...f, body };
  }

  #expr(e: Expr): Expr {
    return rewriteExpr(e, {
      preExpr: (x) => {
        if (isVar(x)) return this.#remap.get(x) ?? x;
        switch (x.kind) {
          case "relax.Function":
            return new Eliminator(this.callOnly, this.mod).function(x);
          case "relax.SeqExpr":
            return this.#seq(x);
          case "relax.If": {
            const cond = this.#expr(x.cond);
            const thenBranch = this.#inner(x.thenBranch);
            const elseBranch = this.#inner(x.elseBranch);
            return cond === x.cond && thenBranch === x.thenBranch && elseBranch === x.elseBranch
              ? x
              : { ...x, cond, thenBranch, elseBranch };
          }
          default:
            return undefined;
        }
      },
    });
  }

  #inner(e: Expr): Expr {
    const table = copyTable(this.#table);
    const remap = new Map(this.#remap);
    const out = this.#expr(e);
    this.#table = table;
    this.#remap = remap;
    return out;
  }

  #seq(s: SeqExpr): SeqExpr {
    let changed = false;
    const blocks = s.blocks.map((b) => {
      const nb = this.#block(b);
      if (nb !== b) changed = true;
      return nb;
    });
    const body = this.#expr(s.body);
    return changed || body !== s.body ? { ...s, blocks, body } : s;
  }

  #block(block: BindingBlock): BindingBlock {
    const saved = new Map(this.#remap);
    let changed = false;
    const bindings = block.bindings.map((b) => {
      const nb = this.#binding(b);
      if (nb !== b) changed = true;
      return nb;
    });
    if (block.kind === "DataflowBlock") {
      // Dataflow variables are not visible after their block.
      for (const es of this.#table.values()) {
        for (const e of es) {
          const kept = e.vars.filter((v) => v.kind !== "relax.DataflowVar");
          e.vars.splice(0, e.vars.length, ...kept);
        }
      }
      this.#remap = saved;
    }
    return changed ? { ...block, bindings } : block;
  }

  #binding(b: Binding): Binding {
    const value = this.#expr(b.value);
    const cast = b.kind === "MatchCast" ? b.structInfo : undefined;
    const out: Binding = value === b.value ? b : { ...b, value };
    if (this.callOnly && value.kind !== "relax.Call") return out;
    if (containsImpureCall(value, this.mod)) return out;
    if (
      value.kind === "relax.Call" && value.op.kind === "relax.Op" && ALLOCATORS.has(value.op.name)
    ) {
      return out;
    }
    const h = structuralHash(value) * 31 + (cast ? structuralHash(cast) : 0);
    const bucket = this.#table.get(h) ?? [];
    const entry = bucket.find((e) =>
      structuralEqual(e.value, value) &&
      (e.cast === cast ||
        (e.cast !== undefined && cast !== undefined && structuralEqual(e.cast, cast)))
    );
    if (entry && entry.vars.length > 0) {
      const first = entry.vars[0]!;
      this.#remap.set(b.var, first);
      entry.vars.push(b.var);
      return varBinding(b.var, first);
    }
    if (entry) entry.vars.push(b.var);
    else bucket.push({ value, cast, vars: [b.var] });
    this.#table.set(h, bucket);
    return out;
  }
}

/** Eliminates common subexpressions in one function (see {@link eliminateCommonSubexpr}). */
export function eliminateCommonSubexprInFunction(
  f: Function,
  options: EliminateCommonSubexprOptions & { readonly mod?: IRModule } = {},
): Function {
  return new Eliminator(options.callOnly ?? false, options.mod).function(f);
}

/**
 * The `EliminateCommonSubexpr` pass (see the module documentation). Returns the module itself
 * when nothing repeats.
 */
export function eliminateCommonSubexpr(options: EliminateCommonSubexprOptions = {}): Pass {
  return relaxFunctionPass(
    "EliminateCommonSubexpr",
    (f, _name, mod) =>
      eliminateCommonSubexprInFunction(f, { callOnly: options.callOnly ?? false, mod }),
  );
}

/**
 * `LegalizeOps`: lowers calls of high-level Relax operators to `call_tir`s of PrimFuncs made
 * from their te computes (each operator's `legalize` in the registry), adding the PrimFuncs to
 * the module. Calls of operators without a legalization, and calls whose argument or result
 * shapes are unknown, stay as they are.
 *
 * @module
 */

import type { IRModule } from "../../ir/module.ts";
import { relaxFunctions, withFunction } from "../../ir/module.ts";
import { BlockBuilder } from "../../ir/relax/block_builder.ts";
import {
  type Binding,
  type BindingBlock,
  dataflowVar,
  type Expr,
  type Function,
  type RCall,
  rvar,
  type SeqExpr,
  varBinding,
} from "../../ir/relax/expr.ts";
import {
  type LegalizeContext,
  type LegalizeFn,
  lookupOp,
  shortName,
} from "../../ir/relax/op/registry.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import type { Tensor as TeTensor } from "../../ir/te/tensor.ts";
import { rewriteExpr, visitBindings } from "../../ir/visit.ts";
import { modulePass, type Pass } from "../pass.ts";

/** Options of {@link legalizeOps}. */
export interface LegalizeOpsOptions {
  /**
   * Legalizations that replace the registry's, by operator name (`"relax.add"` or `"add"`).
   * A function returning the call itself keeps the call.
   */
  readonly customize?: { readonly [opName: string]: LegalizeFn };
}

/** Calls nested in legalization results are legalized again, up to this depth. */
const MAX_DEPTH = 8;

function knownTensors(s: StructInfo): boolean {
  switch (s.kind) {
    case "TensorStructInfo":
      return s.shape !== undefined && s.dtype !== "void";
    case "TupleStructInfo":
      return s.fields.every(knownTensors);
    default:
      return true;
  }
}

/** Whether every tensor the call reads or makes has a known shape and dtype. */
function shapesKnown(call: RCall): boolean {
  return knownTensors(call.structInfo) && call.args.every((a) => knownTensors(a.structInfo));
}

class Legalizer {
  readonly #bb: BlockBuilder;
  readonly #custom: { readonly [opName: string]: LegalizeFn };
  readonly #names = new Set<string>();
  #counter = 0;

  constructor(bb: BlockBuilder, custom: { readonly [opName: string]: LegalizeFn }) {
    this.#bb = bb;
    this.#custom = custom;
  }

  function(f: Function): Function {
    this.#names.clear();
    for (const p of f.params) this.#names.add(p.name);
    visitBindings(f.body, (b) => void this.#names.add(b.var.name));
    const body = rewriteExpr(f.body, {
      preExpr: (e) => (e.kind === "relax.SeqExpr" ? this.#seq(e) : undefined),
    });
    return body === f.body ? f : { ...f, body };
  }

  #fresh(hint: string): string {
    let n: string;
    do n = `${hint}${this.#counter++}`; while (this.#names.has(n));
    this.#names.add(n);
    return n;
  }

  /** A `call_tir` of the kernel `fn` computes; the builder reuses a structurally equal kernel. */
  #callTe(
    fn: (...inputs: TeTensor[]) => TeTensor | readonly TeTensor[],
    args: readonly Expr[],
    name: string,
  ): RCall {
    return this.#bb.callTe(fn, args, { name });
  }

  #rulesFor(name: string): LegalizeFn | undefined {
    return this.#custom[name] ?? this.#custom[shortName(name)] ?? lookupOp(name)?.legalize;
  }

  /** Legalizes `value` if it is an operator call, emitting helper bindings into `out`. */
  #value(value: Expr, block: BindingBlock, out: Binding[], depth: number): Expr {
    if (value.kind !== "relax.Call" || value.op.kind !== "relax.Op") return value;
    const rule = this.#rulesFor(value.op.name);
    if (!rule || !shapesKnown(value)) return value;
    if (depth > MAX_DEPTH) {
      throw new Error(
        `Cannot legalize "${
          shortName(value.op.name)
        }": legalizations nest deeper than ${MAX_DEPTH}`,
      );
    }
    const ctx: LegalizeContext = {
      callTe: (fn, args, options) => this.#callTe(fn, args, options?.name ?? "te_func"),
      emit: (e, name) => {
        const v = this.#value(e, block, out, depth + 1);
        const n = this.#fresh(name ?? "lv");
        const x = block.kind === "DataflowBlock"
          ? dataflowVar(n, v.structInfo)
          : rvar(n, v.structInfo);
        out.push(varBinding(x, v));
        return x;
      },
    };
    const res = rule(value, ctx);
    return res === value ? value : this.#value(res, block, out, depth + 1);
  }

  #block(block: BindingBlock): BindingBlock {
    const out: Binding[] = [];
    let changed = false;
    for (const b of block.bindings) {
      const nested = rewriteExpr(b.value, {
        preExpr: (e) => (e.kind === "relax.SeqExpr" ? this.#seq(e) : undefined),
      });
      const start = out.length;
      const value = b.kind === "VarBinding" ? this.#value(nested, block, out, 0) : nested;
      if (value !== b.value || out.length !== start) changed = true;
      out.push(value === b.value ? b : { ...b, value });
    }
    return changed ? { ...block, bindings: out } : block;
  }

  #seq(e: SeqExpr): SeqExpr {
    let changed = false;
    const blocks = e.blocks.map((b) => {
      const nb = this.#block(b);
      if (nb !== b) changed = true;
      return nb;
    });
    const body = rewriteExpr(e.body, {
      preExpr: (x) => (x.kind === "relax.SeqExpr" ? this.#seq(x) : undefined),
    });
    return changed || body !== e.body ? { ...e, blocks, body } : e;
  }
}

/**
 * The `LegalizeOps` pass. Each binding whose value calls an operator with a legalization (or a
 * `customize` entry) is replaced by the legalized expression, usually a `call_tir` of a new
 * private PrimFunc named after the operator; the bound variable keeps its identity. Returns the
 * module itself when nothing was legalized.
 */
export function legalizeOps(options: LegalizeOpsOptions = {}): Pass {
  const custom = options.customize ?? {};
  return modulePass("LegalizeOps", (mod: IRModule) => {
    const bb = new BlockBuilder(mod);
    const legalizer = new Legalizer(bb, custom);
    const updates: [string, Function][] = [];
    for (const [name, f] of relaxFunctions(mod)) {
      const g = legalizer.function(f);
      if (g !== f) updates.push([name, g]);
    }
    if (updates.length === 0) return mod;
    let out = bb.get();
    for (const [name, g] of updates) out = withFunction(out, name, g);
    return out;
  });
}

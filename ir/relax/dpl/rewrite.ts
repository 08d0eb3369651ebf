/**
 * Pattern rewriting (TVM's `rewrite_call`): replace every bound value a pattern matches with what
 * a callback returns, until nothing matches any more.
 *
 * ```ts
 * // x * 1 -> x
 * const x = wildcard(), one = isConst();
 * const simplify = rewriteCall(isOp("relax.multiply")(x, one), (m) =>
 *   isOne(m.value(one)) ? m.get(x) : undefined);
 * const mod2 = simplify(mod);
 * ```
 *
 * @module
 */

import {
  type AnyVar,
  type BindingBlock,
  type Expr,
  type Function,
  isVar,
  type SeqExpr,
} from "../expr.ts";
import { type IRModule, withFunction } from "../../module.ts";
import { rewriteExpr } from "../../visit.ts";
import { lookupOp } from "../op/registry.ts";
import { BindingEmitter } from "./emitter.ts";
import { type Match, matchPattern, usedVars } from "./match.ts";
import type { Pattern } from "./pattern.ts";

/** Returns the replacement of a match, or `undefined` (or the matched value) to keep it. */
export type Rewriter = (match: Match) => Expr | undefined;

/** A rewrite of a Relax function, or of every Relax function of a module. */
export interface CallRewrite {
  /** Rewrites one function; returns it unchanged (the same object) when nothing matched. */
  (func: Function): Function;
  /** Rewrites every Relax function of a module; returns the same module when nothing matched. */
  (mod: IRModule): IRModule;
}

/** Options of {@link rewriteCall}. */
export interface RewriteCallOptions {
  /** How many rounds of rewriting may change the program before giving up (default 64). */
  readonly maxRounds?: number;
}

/**
 * A rewrite that replaces each bound value matching `pattern` by `rewriter(match)`. Matching looks
 * through the earlier bindings of the same block; the replacement is normalized (its nested calls
 * are bound to new variables before the binding). Rounds repeat until nothing changes; after each
 * round, dataflow variables that merely alias another variable are replaced by it and unused
 * dataflow bindings are removed. Function bodies' result expressions are not rewritten.
 */
export function rewriteCall(
  pattern: Pattern,
  rewriter: Rewriter,
  options: RewriteCallOptions = {},
): CallRewrite {
  const max = options.maxRounds ?? 64;
  const onFunc = (f: Function): Function => rewriteFunction(f, pattern, rewriter, max);
  return ((x: Function | IRModule) => {
    if (x.kind === "relax.Function") return onFunc(x);
    let out = x;
    for (const [name, f] of x.functions) {
      if (f.kind !== "relax.Function") continue;
      const g = onFunc(f);
      if (g !== f) out = withFunction(out, name, g);
    }
    return out;
  }) as CallRewrite;
}

function rewriteFunction(f: Function, p: Pattern, r: Rewriter, max: number): Function {
  if (f.body.kind !== "relax.SeqExpr") return f;
  let body: SeqExpr = f.body;
  for (let round = 0;; round++) {
    const next = rewriteSeq(body, p, r, max);
    if (next === body) break;
    if (round >= max) {
      throw new Error(
        `rewriteCall: ${p} still rewrites after ${max} rounds (does the rewriter undo itself?)`,
      );
    }
    body = cleanup(next);
  }
  return body === f.body ? f : { ...f, body };
}

function isBarrier(e: Expr): boolean {
  if (e.kind === "relax.If") return true;
  return e.kind === "relax.Call" && e.op.kind === "relax.Op" &&
    lookupOp(e.op.name)?.impure === true;
}

/** One round over a SeqExpr; nested functions are rewritten to their own fixed point. */
function rewriteSeq(seq: SeqExpr, p: Pattern, r: Rewriter, max: number): SeqExpr {
  let changed = false;
  const blocks = seq.blocks.map((block) => {
    const em = new BindingEmitter(block.kind === "DataflowBlock");
    const lookup = new Map<AnyVar, Expr>();
    let blockChanged = false;
    for (const b of block.bindings) {
      let value = b.value;
      if (value.kind === "relax.Function") value = rewriteFunction(value, p, r, max);
      if (block.kind !== "DataflowBlock" && isBarrier(value)) {
        lookup.clear();
      } else {
        const m = matchPattern(p, value, lookup);
        const out = m ? r(m) : undefined;
        if (out !== undefined && out !== value) {
          if (b.kind === "VarBinding") em.bind(b.var, out);
          else em.matchCast(b.var, out, b.structInfo);
          blockChanged = true;
          continue;
        }
        if (b.kind === "VarBinding") lookup.set(b.var, value);
      }
      if (value !== b.value) blockChanged = true;
      em.push(value === b.value ? b : { ...b, value });
    }
    if (!blockChanged) return block;
    changed = true;
    return { ...block, bindings: em.bindings };
  });
  return changed ? { ...seq, blocks } : seq;
}

/** Replaces dataflow aliases (`lv = x`) by their targets and drops unused dataflow bindings. */
function cleanup(seq: SeqExpr): SeqExpr {
  const alias = new Map<AnyVar, Expr>();
  for (const b of seq.blocks) {
    for (const d of b.bindings) {
      if (d.kind === "VarBinding" && d.var.kind === "relax.DataflowVar" && isVar(d.value)) {
        alias.set(d.var, alias.get(d.value) ?? d.value);
      }
    }
  }
  let s = seq;
  if (alias.size > 0) {
    const blocks = seq.blocks.map((b) => ({
      ...b,
      bindings: b.bindings.filter((d) => !alias.has(d.var)),
    }));
    s = rewriteExpr({ ...seq, blocks }, {
      expr: (e) => (isVar(e) ? alias.get(e) : undefined),
    }) as SeqExpr;
  }
  return removeUnused(foldOutputAliases(s));
}

/** `lv = value; gv = lv` where `gv` is lv's only use becomes `gv = value`. */
function foldOutputAliases(seq: SeqExpr): SeqExpr {
  let changed = false;
  const blocks = seq.blocks.map((b) => {
    if (b.kind !== "DataflowBlock") return b;
    const uses = new Map<AnyVar, number>();
    for (const d of b.bindings) {
      for (const v of usedVars(d.value)) uses.set(v, (uses.get(v) ?? 0) + 1);
    }
    const rename = new Map<AnyVar, AnyVar>();
    for (const d of b.bindings) {
      const v = d.value;
      if (
        d.kind === "VarBinding" && d.var.kind === "relax.Var" && v.kind === "relax.DataflowVar" &&
        uses.get(v) === 1 && b.bindings.some((e) => e.var === v && e.kind === "VarBinding")
      ) rename.set(v, d.var);
    }
    if (rename.size === 0) return b;
    changed = true;
    const bindings = b.bindings
      .filter((d) => !(d.kind === "VarBinding" && isVar(d.value) && rename.get(d.value) === d.var))
      .map((d) => (rename.has(d.var) ? { ...d, var: rename.get(d.var)! } : d));
    return { ...b, bindings };
  });
  return changed ? { ...seq, blocks } : seq;
}

function removeUnused(seq: SeqExpr): SeqExpr {
  const used = usedVars(seq.body);
  const blocks: BindingBlock[] = [];
  for (let i = seq.blocks.length - 1; i >= 0; i--) {
    const b = seq.blocks[i]!;
    const keep = [];
    for (let j = b.bindings.length - 1; j >= 0; j--) {
      const d = b.bindings[j]!;
      const dead = b.kind === "DataflowBlock" && d.kind === "VarBinding" &&
        d.var.kind === "relax.DataflowVar" && !used.has(d.var);
      if (dead) continue;
      keep.push(d);
      for (const v of usedVars(d.value)) used.add(v);
    }
    keep.reverse();
    blocks.push(keep.length === b.bindings.length ? b : { ...b, bindings: keep });
  }
  blocks.reverse();
  return blocks.every((b, i) => b === seq.blocks[i]) ? seq : { ...seq, blocks };
}

/**
 * `FuseOpsByPattern`: moves each subgraph that a dataflow pattern matches into a private
 * "composite" function (attributes `Composite: <pattern name>` and `Primitive`), called where the
 * subgraph was, as TVM does. Patterns apply one after another, each to the module the previous
 * one produced; within one pattern, a later match that contains an earlier one takes it over.
 *
 * ```ts
 * const conv = isOp("relax.nn.conv2d")(wildcard(), wildcard());
 * const mod2 = fuseOpsByPattern([
 *   { name: "dnnl.conv2d_relu", pattern: isOp("relax.nn.relu")(conv) },
 * ])(mod);
 * ```
 *
 * With `annotateCodegen`, each composite function is wrapped in an outer public function with
 * `Codegen` (the pattern name up to its first period) and `global_symbol` attributes, whose body
 * binds the composite function locally and calls it (what external code generators consume).
 *
 * Matching looks through the bindings of the current dataflow block only. Only calls (and
 * `tuple[i]` items) that sub-patterns match join the function; values matched by wildcards stay
 * outside and become parameters. A match whose function would both feed and consume another
 * binding (a cycle) is skipped.
 *
 * @module
 */

import { type IRModule, relaxFunctions, withFunction, without } from "../../ir/module.ts";
import {
  type AnyVar,
  type BindingBlock,
  bindingBlock,
  type Expr,
  type Function,
  type GlobalVar,
  globalVar,
  rcall,
  relaxFunction,
  rvar,
  seqExpr,
  varBinding,
} from "../../ir/relax/expr.ts";
import type { Pattern } from "../../ir/relax/dpl/pattern.ts";
import { type Match, matchPattern, usedVars } from "../../ir/relax/dpl/match.ts";
import { rewriteFunction } from "../../ir/visit.ts";
import { freshGlobalName } from "../../ir/module.ts";
import { modulePass, type Pass } from "../pass.ts";
import { makeGroupedFunctions, newGroup, type PatternGroup, rootOf } from "./_pattern_groups.ts";

/** What a pattern's `check` sees about a match (TVM's `PatternCheckContext`). */
export interface PatternCheckContext {
  /** The match (its `expr` is the root call). */
  readonly match: Match;
  /** The root call matched. */
  readonly matchedExpr: Expr;
  /** The values matched by the pattern's annotation patterns, by name. */
  readonly annotatedExpr: ReadonlyMap<string, Expr>;
  /** The bindings that would move into the composite function (variable -> value). */
  readonly matchedBindings: ReadonlyMap<AnyVar, Expr>;
  /** For each variable of the block, the variables whose values use it. */
  readonly varUsages: ReadonlyMap<AnyVar, readonly AnyVar[]>;
  /** The variable each value of the block is bound to. */
  readonly valueToBoundVar: ReadonlyMap<Expr, AnyVar>;
}

/** One fusion pattern (TVM's `FusionPattern`). */
export interface FusionPattern {
  /** The composite name, e.g. `"dnnl.conv2d_relu"` (the part before the period names the codegen). */
  readonly name: string;
  /** The pattern, matched at the last binding of the subgraph. */
  readonly pattern: Pattern;
  /** Sub-patterns whose matched values `check` receives by name. */
  readonly annotationPatterns?: { readonly [name: string]: Pattern };
  /** Accepts or rejects a match. */
  readonly check?: (context: PatternCheckContext) => boolean;
}

/** Options of {@link fuseOpsByPattern}. */
export interface FuseOpsByPatternOptions {
  /** Keep constants inside composite functions (default true); false makes them parameters. */
  readonly bindConstants?: boolean;
  /** Wrap composite functions in `Codegen`-annotated functions (default false). */
  readonly annotateCodegen?: boolean;
  /** The functions to partition (default: every Relax function that is not already fused). */
  readonly entryFunctions?: readonly string[];
}

/** Whether a function was made by fusion (or for a codegen) and must not be partitioned again. */
export function isFusedFunction(f: Function): boolean {
  const p = f.attrs["Primitive"];
  return (p !== undefined && p !== false && p !== 0) || f.attrs["Composite"] !== undefined ||
    f.attrs["Codegen"] !== undefined;
}

/** The codegen of a composite name: the part before the first period. */
export function codegenName(composite: string, who: string): string {
  const i = composite.indexOf(".");
  if (i <= 0) {
    throw new Error(
      `${who}: composite name "${composite}" must start with a codegen name and a period (e.g. "dnnl.conv2d")`,
    );
  }
  return composite.slice(0, i);
}

type Key = PatternGroup | AnyVar;

/** Whether making `members` one group creates a cycle through the other groups of the block. */
function wouldCycle(
  block: BindingBlock,
  members: ReadonlySet<AnyVar>,
  keyOf: (v: AnyVar) => Key,
): boolean {
  const S = "S";
  const key = (v: AnyVar): Key | "S" => (members.has(v) ? S : keyOf(v));
  const succ = new Map<Key | "S", Set<Key | "S">>();
  const defined = new Set(block.bindings.map((b) => b.var));
  for (const b of block.bindings) {
    const to = key(b.var);
    for (const u of usedVars(b.value)) {
      if (!defined.has(u)) continue;
      const from = key(u);
      if (from === to) continue;
      if (!succ.has(from)) succ.set(from, new Set());
      succ.get(from)!.add(to);
    }
  }
  const seen = new Set<Key | "S">();
  const stack = [...succ.get(S) ?? []];
  while (stack.length) {
    const k = stack.pop()!;
    if (k === S) return true;
    if (seen.has(k)) continue;
    seen.add(k);
    stack.push(...succ.get(k) ?? []);
  }
  return false;
}

function partitionBlock(
  block: BindingBlock,
  fp: FusionPattern,
  groupOf: Map<AnyVar, PatternGroup>,
): void {
  const lookup = new Map<AnyVar, Expr>();
  const valueToVar = new Map<Expr, AnyVar>();
  const members = new Map<PatternGroup, AnyVar[]>();
  const usages = new Map<AnyVar, AnyVar[]>();
  for (const b of block.bindings) {
    for (const u of usedVars(b.value)) usages.set(u, [...usages.get(u) ?? [], b.var]);
  }
  const keyOf = (v: AnyVar): Key => {
    const g = groupOf.get(v);
    return g ? rootOf(g) : v;
  };
  for (const b of block.bindings) {
    if (b.kind !== "VarBinding") continue;
    lookup.set(b.var, b.value);
    valueToVar.set(b.value, b.var);
    if (b.value.kind !== "relax.Call") continue;
    const own = newGroup();
    groupOf.set(b.var, own);
    members.set(own, [b.var]);
    const m = matchPattern(fp.pattern, b.value, lookup);
    if (!m) continue;
    const inner: AnyVar[] = [];
    for (const [p, c] of m.captures()) {
      const joins = (p.kind === "Call" && c.value !== b.value) || p.kind === "TupleGetItem";
      const v = joins ? valueToVar.get(c.value) : undefined;
      if (v && v !== b.var && !inner.includes(v)) inner.push(v);
    }
    const matched = new Set([b.var, ...inner]);
    const matchedBindings = new Map([...matched].map((v) => [v, lookup.get(v)!]));
    if (fp.check) {
      const annotated = new Map<string, Expr>();
      for (const [name, p] of Object.entries(fp.annotationPatterns ?? {})) {
        if (m.has(p)) annotated.set(name, m.value(p));
      }
      const ok = fp.check({
        match: m,
        matchedExpr: b.value,
        annotatedExpr: annotated,
        matchedBindings,
        varUsages: usages,
        valueToBoundVar: valueToVar,
      });
      if (!ok) continue;
    }
    // A prior match may be taken over only when it lies wholly inside this one.
    const subsumes = inner.every((v) => {
      const g = keyOf(v);
      if (!("numNodes" in g) || g.numNodes <= 1) return true;
      return (members.get(g) ?? []).every((x) => matched.has(x));
    });
    if (!subsumes || wouldCycle(block, matched, keyOf)) continue;
    own.attrs = { Composite: fp.name };
    const list = members.get(own)!;
    for (const v of inner) {
      if (keyOf(v) === own) continue;
      groupOf.set(v, own);
      own.numNodes++;
      list.push(v);
    }
  }
}

function entryNames(mod: IRModule, options: FuseOpsByPatternOptions): string[] {
  if (options.entryFunctions) {
    for (const n of options.entryFunctions) {
      if (mod.functions.get(n)?.kind !== "relax.Function") {
        throw new Error(`FuseOpsByPattern: the module has no Relax function "${n}"`);
      }
    }
    return [...options.entryFunctions];
  }
  return relaxFunctions(mod).filter(([, f]) => !isFusedFunction(f)).map(([n]) => n);
}

/** Wraps each called composite function in a `Codegen` function (TVM's CompositeFunctionAnnotator). */
function annotateCodegen(mod: IRModule): IRModule {
  let out = mod;
  const made = new Map<string, GlobalVar>();
  const wrap = (gv: GlobalVar, cf: Function): GlobalVar => {
    const known = made.get(gv.name);
    if (known) return known;
    const codegen = codegenName(String(cf.attrs["Composite"]), "FuseOpsByPattern");
    const { Primitive: _, ...attrs } = cf.attrs;
    const inner: Function = { ...cf, attrs, isPrivate: true };
    const params = cf.params.map((p) => rvar(p.name, p.structInfo));
    const local = rvar("local_func", inner.structInfo);
    const output = rvar("output", cf.retStructInfo);
    const call = rcall(local, params, { structInfo: cf.retStructInfo });
    out = without(out, gv.name);
    const name = freshGlobalName(out, `${gv.name}_${codegen}`);
    const outer = relaxFunction(
      params,
      seqExpr([bindingBlock([varBinding(local, inner), varBinding(output, call)])], output),
      {
        retStructInfo: cf.retStructInfo,
        isPure: cf.isPure,
        attrs: { Codegen: codegen, global_symbol: name },
      },
    );
    out = withFunction(out, name, outer);
    const ngv = globalVar(name, outer.structInfo);
    made.set(gv.name, ngv);
    return ngv;
  };
  for (const [name, f] of relaxFunctions(mod)) {
    if (f.attrs["Composite"] !== undefined || f.attrs["Codegen"] !== undefined) continue;
    const nf = rewriteFunction(f, {
      expr: (e) => {
        if (e.kind !== "relax.Call" || e.op.kind !== "GlobalVar") return undefined;
        const cf = mod.functions.get(e.op.name);
        if (cf?.kind !== "relax.Function" || cf.attrs["Composite"] === undefined) return undefined;
        return { ...e, op: wrap(e.op, cf) };
      },
    });
    if (nf !== f) out = withFunction(out, name, nf);
  }
  return out;
}

/**
 * The `FuseOpsByPattern` pass (see the module documentation). Returns the module itself when no
 * pattern matches.
 */
export function fuseOpsByPattern(
  patterns: readonly FusionPattern[],
  options: FuseOpsByPatternOptions = {},
): Pass {
  for (const p of patterns) {
    if (typeof p.name !== "string" || p.name === "") {
      throw new Error("FuseOpsByPattern: every pattern needs a non-empty name");
    }
  }
  return modulePass("FuseOpsByPattern", (mod) => {
    let out = mod;
    for (const fp of patterns) {
      const entries = entryNames(out, options);
      const groupOf = new Map<AnyVar, PatternGroup>();
      for (const name of entries) {
        const f = out.functions.get(name) as Function;
        if (f.body.kind !== "relax.SeqExpr") continue;
        for (const b of f.body.blocks) {
          if (b.kind === "DataflowBlock") partitionBlock(b, fp, groupOf);
        }
      }
      out = makeGroupedFunctions(out, entries, groupOf, {
        liftConstants: !(options.bindConstants ?? true),
        who: "FuseOpsByPattern",
      });
    }
    return options.annotateCodegen ? annotateCodegen(out) : out;
  });
}

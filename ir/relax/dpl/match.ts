/**
 * Matching dataflow patterns against Relax expressions (TVM's `DFPatternMatcher`), and graph
 * patterns (`usedBy` chains) against dataflow blocks (TVM's `match_dfb`).
 *
 * With a variable-to-value map, a variable argument matches a pattern when its bound value does,
 * so `isOp("relax.nn.relu")(isOp("relax.nn.conv2d")(wildcard(), wildcard()))` matches `relu(lv)`
 * where `lv = conv2d(x, w)` is bound earlier. A pattern object used twice must match the same
 * value both times. Calls of `relax.add` and `relax.multiply` also match with their arguments
 * swapped.
 *
 * @module
 */

import type { AnyVar, BindingBlock, Expr, Function, SeqExpr } from "../expr.ts";
import { isVar } from "../expr.ts";
import type { PrimExpr } from "../../expr.ts";
import { structuralEqual } from "../../structural.ts";
import { Analyzer } from "../../arith/analyzer.ts";
import { visitExpr } from "../../visit.ts";
import type { Pattern, PatternSeq, UseEdge } from "./pattern.ts";

/** Where a pattern matched: the expression as written there, and its value through bindings. */
export interface Capture {
  /** The expression at the match site (a variable where the program has one). */
  readonly site: Expr;
  /** The site with variables replaced by their bound values (what the pattern inspected). */
  readonly value: Expr;
}

/** The result of a successful match: which expression each pattern matched. */
export class Match {
  /** The pattern matched. */
  readonly pattern: Pattern;
  /** The expression matched (as given to `match`). */
  readonly expr: Expr;
  readonly #memo: ReadonlyMap<Pattern, Capture>;

  /** A match of `pattern` at `expr` with the captures of every sub-pattern. */
  constructor(pattern: Pattern, expr: Expr, captures: ReadonlyMap<Pattern, Capture>) {
    this.pattern = pattern;
    this.expr = expr;
    this.#memo = captures;
  }

  /** Whether `p` took part in the match (an untaken alternative of `or` did not). */
  has(p: Pattern): boolean {
    return this.#memo.has(p);
  }

  /**
   * The expression `p` matched, as written at the match site: for an argument that is a variable,
   * the variable (use it in replacements to refer to the value without recomputing it).
   */
  get(p: Pattern): Expr {
    return this.#capture(p).site;
  }

  /** The value `p` matched: the site with variables replaced by their bound values. */
  value(p: Pattern): Expr {
    return this.#capture(p).value;
  }

  /** The captures of every pattern that took part, in match order. */
  captures(): ReadonlyMap<Pattern, Capture> {
    return this.#memo;
  }

  #capture(p: Pattern): Capture {
    const c = this.#memo.get(p);
    if (!c) throw new Error(`Pattern ${p} did not take part in this match of ${this.pattern}`);
    return c;
  }
}

const COMMUTATIVE = new Set(["relax.add", "relax.multiply"]);

/** Identity, except for references that are equal by name (operators, globals, externs). */
function sameValue(a: Expr, b: Expr): boolean {
  if (a === b) return true;
  if (a.kind === "relax.Op" && b.kind === "relax.Op") return a.name === b.name;
  if (a.kind === "GlobalVar" && b.kind === "GlobalVar") return a.name === b.name;
  if (a.kind === "relax.ExternFunc" && b.kind === "relax.ExternFunc") {
    return a.globalSymbol === b.globalSymbol;
  }
  return false;
}

class Matcher {
  readonly memo = new Map<Pattern, Capture>();
  readonly #order: Pattern[] = [];
  readonly #bindings: ReadonlyMap<AnyVar, Expr> | undefined;
  #analyzer: Analyzer | undefined;

  constructor(bindings: ReadonlyMap<AnyVar, Expr> | undefined) {
    this.#bindings = bindings;
  }

  unwrap(e: Expr): Expr {
    let x = e;
    for (;;) {
      if (isVar(x) && this.#bindings?.has(x)) x = this.#bindings.get(x)!;
      else if (x.kind === "relax.SeqExpr" && x.blocks.length === 0) x = x.body;
      else return x;
    }
  }

  visit(p: Pattern, site: Expr): boolean {
    const value = this.unwrap(site);
    const prev = this.memo.get(p);
    if (prev) return sameValue(prev.value, value);
    const mark = this.#order.length;
    const ok = this.#visitKind(p, site, value);
    if (ok) {
      this.memo.set(p, { site, value });
      this.#order.push(p);
    } else {
      this.#clear(mark);
    }
    return ok;
  }

  #clear(mark: number): void {
    for (const p of this.#order.splice(mark)) this.memo.delete(p);
  }

  #args(ps: readonly Pattern[], es: readonly Expr[]): boolean {
    const mark = this.#order.length;
    for (let i = 0; i < ps.length; i++) {
      if (!this.visit(ps[i]!, es[i]!)) {
        this.#clear(mark);
        return false;
      }
    }
    return true;
  }

  #unordered(ps: readonly Pattern[], es: readonly Expr[], i: number, used: boolean[]): boolean {
    if (i === ps.length) return true;
    for (let j = 0; j < es.length; j++) {
      if (used[j]) continue;
      const mark = this.#order.length;
      if (this.visit(ps[i]!, es[j]!)) {
        used[j] = true;
        if (this.#unordered(ps, es, i + 1, used)) return true;
        used[j] = false;
      }
      this.#clear(mark);
    }
    return false;
  }

  #dimsEqual(a: readonly PrimExpr[], b: readonly PrimExpr[]): boolean {
    if (a.length !== b.length) return false;
    return a.every((x, i) => {
      const y = b[i]!;
      if (x.kind === "IntImm" && y.kind === "IntImm") return x.value === y.value;
      if (structuralEqual(x, y)) return true;
      this.#analyzer ??= new Analyzer();
      return this.#analyzer.canProveEqual(x, y);
    });
  }

  #visitKind(p: Pattern, site: Expr, v: Expr): boolean {
    switch (p.kind) {
      case "Wildcard":
        return true;
      case "Op":
        return v.kind === "relax.Op" && v.name === p.opName;
      case "Expr":
        return structuralEqual(p.expr, v);
      case "Var":
        return isVar(v) && (!p.dataflow || v.kind === "relax.DataflowVar") &&
          (p.nameHint === "" || v.name === p.nameHint);
      case "GlobalVar":
        return v.kind === "GlobalVar" && v.name.includes(p.nameHint);
      case "ExternFunc":
        return v.kind === "relax.ExternFunc" && (p.symbol === "" || v.globalSymbol === p.symbol);
      case "Constant":
        return v.kind === "relax.Constant";
      case "Call": {
        if (v.kind !== "relax.Call" || !this.visit(p.callee, v.op)) return false;
        const n = p.args.length, m = v.args.length;
        if (p.varArgs ? m < n : m !== n) return false;
        if (this.#args(p.args, v.args)) return true;
        if (v.op.kind === "relax.Op" && COMMUTATIVE.has(v.op.name) && n === 2) {
          return this.#args(p.args, [v.args[1]!, v.args[0]!]);
        }
        return false;
      }
      case "Tuple":
        if (v.kind !== "relax.Tuple" || v.fields.length !== p.fields.length) return false;
        return p.unordered
          ? this.#unordered(p.fields, v.fields, 0, v.fields.map(() => false))
          : this.#args(p.fields, v.fields);
      case "TupleGetItem":
        return v.kind === "relax.TupleGetItem" && (p.index === -1 || p.index === v.index) &&
          this.visit(p.tuple, v.tuple);
      case "Or":
        return this.visit(p.left, site) || this.visit(p.right, site);
      case "And":
        return this.visit(p.left, site) && this.visit(p.right, site);
      case "Not":
        return !this.visit(p.reject, site);
      case "Attr": {
        if (!this.visit(p.pattern, site)) return false;
        const attrs = v.kind === "relax.Call" || v.kind === "relax.Function" ? v.attrs : undefined;
        if (!attrs) return false;
        return Object.entries(p.attrs).every(([k, want]) =>
          Object.hasOwn(attrs, k) && structuralEqual(want, attrs[k])
        );
      }
      case "Shape": {
        const s = site.structInfo;
        return s.kind === "TensorStructInfo" && s.shape !== undefined &&
          this.#dimsEqual(p.shape, s.shape) && this.visit(p.pattern, site);
      }
      case "DType": {
        const s = site.structInfo;
        return s.kind === "TensorStructInfo" && s.dtype === p.dtype && this.visit(p.pattern, site);
      }
      case "StructInfo":
        return structuralEqual(p.structInfo, site.structInfo) && this.visit(p.pattern, site);
      case "ShapeExpr":
        return v.kind === "relax.ShapeExpr" && this.#dimsEqual(p.values, v.values);
      default:
        p satisfies never;
        return false;
    }
  }
}

/**
 * Matches `pattern` against `expr`, looking through `bindings` (variable -> bound value) where
 * given. Returns the captures, or `undefined`. Also available as `pattern.match(expr)`.
 */
export function matchPattern(
  pattern: Pattern,
  expr: Expr,
  bindings?: ReadonlyMap<AnyVar, Expr>,
): Match | undefined {
  const m = new Matcher(bindings);
  return m.visit(pattern, expr) ? new Match(pattern, expr, new Map(m.memo)) : undefined;
}

/**
 * The value bound to each variable by a `var = value` binding (not `match_cast`) in a function,
 * SeqExpr or block, nested scopes included (TVM's `AnalyzeVar2Value`).
 */
export function varToValue(x: Function | SeqExpr | BindingBlock): Map<AnyVar, Expr> {
  const out = new Map<AnyVar, Expr>();
  const onSeq = (e: Expr) => {
    if (e.kind === "relax.SeqExpr") {
      for (const b of e.blocks) {
        for (const d of b.bindings) if (d.kind === "VarBinding") out.set(d.var, d.value);
      }
    }
  };
  if (x.kind === "relax.Function") visitExpr(x.body, onSeq);
  else if (x.kind === "relax.SeqExpr") visitExpr(x, onSeq);
  else {
    for (const d of x.bindings) {
      if (d.kind === "VarBinding") out.set(d.var, d.value);
      visitExpr(d.value, onSeq);
    }
  }
  return out;
}

/** The variables an expression uses (not descending into nested functions' own bindings). */
export function usedVars(e: Expr): Set<AnyVar> {
  const out = new Set<AnyVar>();
  visitExpr(e, (x) => {
    if (isVar(x)) out.add(x);
  });
  return out;
}

/** Options of {@link matchDataflow}. */
export interface MatchDataflowOptions {
  /** Extra variable bindings to look through (e.g. from earlier blocks). */
  readonly bindings?: ReadonlyMap<AnyVar, Expr>;
}

/**
 * Matches graph patterns against a dataflow block (TVM's `match_dfb`): assigns each pattern of
 * the sequences to a distinct binding whose value it matches, such that every `usedBy` edge holds
 * (the producer's variable is an argument of the consumer's value, at `index` when given) and
 * every `onlyUsedBy` producer is a dataflow variable used by its consumer alone. Returns the
 * variable chosen for each pattern, or `undefined` when there is no such assignment.
 */
export function matchDataflow(
  seqs: PatternSeq | readonly (PatternSeq | Pattern)[],
  block: BindingBlock,
  options: MatchDataflowOptions = {},
): Map<Pattern, AnyVar> | undefined {
  const list = Array.isArray(seqs)
    ? seqs as readonly (PatternSeq | Pattern)[]
    : [seqs as PatternSeq];
  const patterns: Pattern[] = [];
  const edges: UseEdge[] = [];
  for (const s of list) {
    const ps = typeof s === "function" ? [s as Pattern] : (s as PatternSeq).patterns;
    for (const p of ps) if (!patterns.includes(p)) patterns.push(p);
    if (typeof s !== "function") edges.push(...(s as PatternSeq).edges);
  }
  const bindings = new Map(options.bindings ?? []);
  for (const [k, v] of varToValue(block)) bindings.set(k, v);
  const vbs = block.bindings.filter((b) => b.kind === "VarBinding");
  const users = new Map<AnyVar, Set<AnyVar>>();
  for (const b of block.bindings) {
    for (const u of usedVars(b.value)) {
      if (!users.has(u)) users.set(u, new Set());
      users.get(u)!.add(b.var);
    }
  }
  const valueOf = new Map(vbs.map((b) => [b.var, b.value]));
  const candidates = patterns.map((p) =>
    vbs.filter((b) => matchPattern(p, b.value, bindings)).map((b) => b.var)
  );
  const chosen = new Map<Pattern, AnyVar>();
  const edgeHolds = (e: UseEdge): boolean => {
    const pv = chosen.get(e.producer), cv = chosen.get(e.consumer);
    if (!pv || !cv) return true;
    const value = valueOf.get(cv)!;
    if (e.index >= 0) {
      if (value.kind !== "relax.Call" || value.args[e.index] !== pv) return false;
    } else if (!usedVars(value).has(pv)) {
      return false;
    }
    if (!e.only) return true;
    const us = users.get(pv);
    return pv.kind === "relax.DataflowVar" && us !== undefined && us.size === 1 && us.has(cv);
  };
  const search = (i: number): boolean => {
    if (i === patterns.length) return true;
    const p = patterns[i]!;
    for (const v of candidates[i]!) {
      if ([...chosen.values()].includes(v)) continue;
      chosen.set(p, v);
      if (edges.every(edgeHolds) && search(i + 1)) return true;
      chosen.delete(p);
    }
    return false;
  };
  return search(0) ? chosen : undefined;
}

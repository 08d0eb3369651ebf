/**
 * The rewriting engine behind {@link Analyzer.simplify}: one bottom-up pass per round that
 * simplifies children first, puts integer index math into canonical linear form (`linear.ts`),
 * resolves division, modulo, min, max and comparisons from bounds, and applies the local rules
 * of `rules.ts`. Float math is only constant-folded, never reassociated.
 *
 * Termination: every rule application spends one unit of fuel, and a simplification runs at most
 * a few rounds, so no input can make it loop.
 *
 * @module
 */

import { isFloat, isInt, lanes } from "../dtype.ts";
import {
  type Binary,
  binary,
  boolImm,
  castExpr,
  type CmpKind,
  constant,
  copyExpr,
  intImm,
  isBinary,
  isCmpKind,
  letExpr,
  notExpr,
  type PrimExpr,
  type Var,
} from "../expr.ts";
import { exprKey, freeVars, identical, sameExpr } from "./_key.ts";
import { evalInterval, type Interval, type IntervalContext } from "./_interval.ts";
import {
  type BoundEnv,
  constIntBoundOf,
  EVERYTHING,
  type IntBound,
  intersectBound,
  pointBound,
} from "./bounds.ts";
import { foldBinary, foldCast, foldIntOp, isSignedInt } from "./fold.ts";
import { gcd, isLinearDType, LinearSum } from "./linear.ts";
import { applyRules, type Rule, type RuleContext } from "./pattern.ts";
import {
  andRules,
  floorDivRules,
  floorModRules,
  maxRules,
  minRules,
  notRules,
  orRules,
  selectRules,
  truncDivRules,
  truncModRules,
} from "./rules.ts";

/** What the simplifier knows about a variable. */
export interface VarInfo {
  /** Constant bounds of the variable. */
  readonly bound?: IntBound;
  /** Symbolic inclusive range, when its ends are not constants. */
  readonly range?: Interval;
  /** A value the variable equals; the simplifier substitutes it. */
  readonly value?: PrimExpr;
}

/** Looks up what is known about a variable. */
export type VarLookup = (v: Var) => VarInfo | undefined;

/** Options of {@link Simplifier}. */
export interface SimplifierOptions {
  /** Use symbolic ranges of variables to refine bounds (default true). */
  readonly symbolic?: boolean;
  /** The most rule applications one `simplify` call may make (default 20000). */
  readonly fuel?: number;
}

const MAX_ROUNDS = 4;
const DEFAULT_FUEL = 20000;

const flipCmp: { readonly [K in CmpKind]: CmpKind } = {
  EQ: "EQ",
  NE: "NE",
  LT: "GT",
  LE: "GE",
  GT: "LT",
  GE: "LE",
};

/** A simplifier over a fixed set of variable facts. */
export class Simplifier implements IntervalContext {
  readonly #lookup: VarLookup;
  readonly #symbolic: boolean;
  #fuel: number;
  readonly #letBounds = new Map<Var, IntBound>();
  #constCache = new WeakMap<PrimExpr, IntBound>();
  #boundCache = new WeakMap<PrimExpr, IntBound>();
  readonly #env: BoundEnv = (v) => this.#letBounds.get(v) ?? this.#lookup(v)?.bound;

  /** A simplifier that asks `lookup` about variables. */
  constructor(lookup: VarLookup, options: SimplifierOptions = {}) {
    this.#lookup = lookup;
    this.#symbolic = options.symbolic ?? true;
    this.#fuel = options.fuel ?? DEFAULT_FUEL;
  }

  /** Simplifies `e`; returns `e` itself when nothing changed. */
  simplify(e: PrimExpr): PrimExpr {
    let cur = e;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const next = this.#visit(cur);
      if (next === cur) break;
      const same = exprKey(next) === exprKey(cur);
      cur = next;
      if (same) break;
    }
    return identical(cur, e) ? e : cur;
  }

  /** The constant bound of `e`, refined with symbolic variable ranges. */
  constIntBound(e: PrimExpr): IntBound {
    const b = constIntBoundOf(e, this.#env, this.#constCache);
    if (!this.#symbolic || (b.min > -Infinity && b.max < Infinity)) return b;
    const hit = this.#boundCache.get(e);
    if (hit) return hit;
    let r = b;
    const doms = new Map<Var, Interval>();
    for (const v of freeVars(e)) {
      const range = this.#letBounds.has(v) ? undefined : this.#lookup(v)?.range;
      if (range) doms.set(v, range);
    }
    if (doms.size) {
      const lets = new Map(this.#letBounds);
      const inner = new Simplifier((v) => {
        const lb = lets.get(v);
        return lb ? { bound: lb } : this.#lookup(v);
      }, { symbolic: false });
      const iv = evalInterval(e, doms, inner);
      r = intersectBound(r, {
        min: iv.min ? inner.constIntBound(iv.min).min : -Infinity,
        max: iv.max ? inner.constIntBound(iv.max).max : Infinity,
      });
    }
    this.#boundCache.set(e, r);
    return r;
  }

  /** Whether `cond` simplifies to true. */
  prove(cond: PrimExpr): boolean {
    const r = this.simplify(cond);
    return r.kind === "IntImm" && r.value !== 0;
  }

  #ruleContext(e: PrimExpr): RuleContext {
    return {
      dtype: e.dtype,
      prove: (c) => this.prove(c),
      c: (v, t = e.dtype) => constant(v, t),
    };
  }

  /** Applies the first matching rule and simplifies its result; `e` when none applies. */
  #rules(e: PrimExpr, rules: readonly Rule[]): PrimExpr {
    if (this.#fuel <= 0 || e.kind === "IntImm") return e;
    const r = applyRules(rules, e, this.#ruleContext(e));
    if (r === undefined) return e;
    this.#fuel--;
    return this.#visit(r);
  }

  #visit(e: PrimExpr): PrimExpr {
    if (isBinary(e)) return this.#binary(e);
    switch (e.kind) {
      case "IntImm":
      case "FloatImm":
      case "StringImm":
        return e;
      case "Var": {
        const value = this.#letBounds.has(e) ? undefined : this.#lookup(e)?.value;
        return value ?? e;
      }
      case "Not": {
        const a = this.#visit(e.a);
        if (a.kind === "IntImm") return boolImm(a.value === 0);
        return this.#rules(a === e.a ? e : notExpr(a), notRules);
      }
      case "Select": {
        const cond = this.#visit(e.cond);
        if (cond.kind === "IntImm") return this.#visit(cond.value ? e.t : e.f);
        const t = this.#visit(e.t), f = this.#visit(e.f);
        const s = cond === e.cond && t === e.t && f === e.f ? e : copyExpr(e, { cond, t, f });
        return this.#rules(s, selectRules);
      }
      case "Cast": {
        const v = this.#visit(e.value);
        const folded = foldCast(v, e.dtype);
        if (folded) return folded;
        if (v.dtype === e.dtype) return v;
        return v === e.value ? e : castExpr(e.dtype, v);
      }
      case "Let": {
        const value = this.#visit(e.value);
        const saved = this.#letBounds.get(e.var);
        const caches = [this.#constCache, this.#boundCache] as const;
        this.#letBounds.set(e.var, isInt(value.dtype) ? this.constIntBound(value) : EVERYTHING);
        // Bounds inside the body depend on this binding: cache them separately.
        this.#constCache = new WeakMap();
        this.#boundCache = new WeakMap();
        let body: PrimExpr;
        try {
          body = this.#visit(e.body);
        } finally {
          if (saved) this.#letBounds.set(e.var, saved);
          else this.#letBounds.delete(e.var);
          [this.#constCache, this.#boundCache] = caches;
        }
        return value === e.value && body === e.body ? e : letExpr(e.var, value, body);
      }
      case "Call": {
        const args = e.args.map((a) => this.#visit(a));
        if (e.op === "tir.if_then_else") {
          const c = args[0]!;
          if (c.kind === "IntImm") return c.value ? args[1]! : args[2]!; // if_then_else(true, a, b) -> a
          if (sameExpr(args[1]!, args[2]!)) return args[1]!; // if_then_else(c, a, a) -> a
        }
        if (e.op === "tir.likely" && args[0]!.kind === "IntImm") return args[0]!; // likely(c) -> c
        return args.every((a, i) => a === e.args[i]) ? e : copyExpr(e, { args });
      }
      case "BufferLoad": {
        const indices = e.indices.map((a) => this.#visit(a));
        return indices.every((a, i) => a === e.indices[i]) ? e : copyExpr(e, { indices });
      }
      case "Ramp": {
        const base = this.#visit(e.base), stride = this.#visit(e.stride);
        return base === e.base && stride === e.stride ? e : copyExpr(e, { base, stride });
      }
      case "Broadcast": {
        const value = this.#visit(e.value);
        return value === e.value ? e : copyExpr(e, { value });
      }
      default:
        e satisfies never;
        throw new Error("unreachable");
    }
  }

  #binary(e: Binary): PrimExpr {
    const a = this.#visit(e.a), b = this.#visit(e.b);
    const folded = foldBinary(e.kind, a, b);
    if (folded) return folded;
    const raw = () => (a === e.a && b === e.b ? e : binary(e.kind, a, b));
    if (!isLinearDType(a.dtype)) {
      if (e.kind === "And" || e.kind === "Or") return this.#logic(e.kind, a, b);
      // x == x -> true and friends, never on floats (NaN != NaN)
      if (isCmpKind(e.kind) && lanes(a.dtype) === 1 && !isFloat(a.dtype) && sameExpr(a, b)) {
        return boolImm(e.kind === "EQ" || e.kind === "LE" || e.kind === "GE");
      }
      return raw();
    }
    switch (e.kind) {
      case "Add":
      case "Sub":
      case "Mul":
        return this.#sum(binary(e.kind, a, b)) ?? raw();
      case "FloorDiv":
      case "FloorMod":
      case "Div":
      case "Mod":
        return this.#divMod(e.kind, a, b) ?? raw();
      case "Min":
      case "Max":
        return this.#minMax(e.kind, a, b);
      case "EQ":
      case "NE":
      case "LT":
      case "LE":
      case "GT":
      case "GE":
        return this.#compare(e.kind, a, b) ?? raw();
      case "And":
      case "Or":
        return raw();
      default:
        e.kind satisfies never;
        return raw();
    }
  }

  #logic(kind: "And" | "Or", a: PrimExpr, b: PrimExpr): PrimExpr {
    if (a.kind === "IntImm") return (a.value !== 0) === (kind === "And") ? b : a; // true && b -> b; false || b -> b
    if (b.kind === "IntImm") return (b.value !== 0) === (kind === "And") ? a : b; // a && true -> a; a || false -> a
    return this.#rules(binary(kind, a, b), kind === "And" ? andRules : orRules);
  }

  /** Canonical form of a sum or product; `undefined` when coefficients lose precision. */
  #sum(e: PrimExpr): PrimExpr | undefined {
    const s = LinearSum.of(e);
    s.mergeDivMod();
    return s.isExact ? s.toExpr() : undefined;
  }

  #divMod(
    kind: "FloorDiv" | "FloorMod" | "Div" | "Mod",
    a: PrimExpr,
    b: PrimExpr,
  ): PrimExpr | undefined {
    const isDiv = kind === "FloorDiv" || kind === "Div";
    const rules = kind === "FloorDiv"
      ? floorDivRules
      : kind === "FloorMod"
      ? floorModRules
      : kind === "Div"
      ? truncDivRules
      : truncModRules;
    if (a.kind === "IntImm" && a.value === 0) return a; // 0 // y -> 0, 0 % y -> 0
    if (b.kind === "IntImm") {
      if (b.value > 0) {
        const r = this.#divModConst(kind, a, b.value);
        if (r) return r;
      }
      return this.#rules(binary(kind, a, b), rules);
    }
    // A symbolic divisor: only the cases decided by bounds.
    if (this.constIntBound(a).min >= 0 && this.#boundOfDiff(a, b).max < 0) {
      return isDiv ? intImm(0, a.dtype) : a; // 0 <= a < b (so b > 0): a // b -> 0, a % b -> a
    }
    const bb = this.constIntBound(b);
    if ((bb.min > 0 || bb.max < 0) && sameExpr(a, b)) return intImm(isDiv ? 1 : 0, a.dtype); // x / x -> 1, x % x -> 0
    return undefined;
  }

  /** Division and modulo by a constant `c > 0` of a canonical sum. */
  #divModConst(
    kind: "FloorDiv" | "FloorMod" | "Div" | "Mod",
    a: PrimExpr,
    c: number,
  ): PrimExpr | undefined {
    const isDiv = kind === "FloorDiv" || kind === "Div";
    const floor = kind === "FloorDiv" || kind === "FloorMod";
    // Truncating division equals floor division for a non-negative dividend; otherwise keep it.
    if (!floor && this.constIntBound(a).min < 0) return undefined;
    const sum = LinearSum.of(a);
    if (!sum.isExact) return undefined;
    const { quotient, rest } = sum.splitBy(c);
    // Keep the sign of the constant left inside: (x - 1) // 4 stays, (x + 5) // 4 -> (x + 1) // 4 + 1.
    quotient.constant = Math.trunc(sum.constant / c);
    rest.constant = sum.constant - quotient.constant * c;
    const rules = kind === "FloorDiv"
      ? floorDivRules
      : kind === "FloorMod"
      ? floorModRules
      : kind === "Div"
      ? truncDivRules
      : truncModRules;
    const dtype = a.dtype;
    if (isDiv) {
      // a // c == quotient + rest // c
      if (rest.isConstant) {
        quotient.constant += Math.floor(rest.constant / c);
        return quotient.toExpr();
      }
      const g = gcd(rest.coefGcd(true), c);
      const r2 = g > 1 ? rest.clone().divideExact(g) : rest; // (g*r) // (g*c) -> r // c
      const c2 = c / g;
      const re = r2.toExpr();
      const rb = this.constIntBound(re);
      const q = Math.floor(rb.min / c2);
      if (Number.isFinite(q) && Math.floor(rb.max / c2) === q) {
        quotient.constant += q;
        return quotient.toExpr(); // rest // c is a known constant
      }
      if (!floor && rb.min < 0) return undefined;
      const atom = this.#rules(binary(kind, re, intImm(c2, dtype)), rules);
      return quotient.addExpr(atom, 1).toExpr();
    }
    // a % c == rest % c
    if (rest.isConstant) return intImm(foldIntOp("FloorMod", rest.constant, c)!, dtype);
    const re = rest.toExpr();
    const rb = this.constIntBound(re);
    const q = Math.floor(rb.min / c);
    if (Number.isFinite(q) && Math.floor(rb.max / c) === q) {
      rest.constant -= q * c;
      return rest.toExpr(); // rest lies in one period
    }
    if (!floor && rb.min < 0) return undefined;
    return this.#rules(binary(kind, re, intImm(c, dtype)), rules);
  }

  #boundOfDiff(a: PrimExpr, b: PrimExpr): IntBound {
    const d = LinearSum.of(a).addExpr(b, -1);
    if (!d.isExact) return { min: -Infinity, max: Infinity };
    return d.isConstant ? pointBound(d.constant) : this.constIntBound(d.toExpr());
  }

  #minMax(kind: "Min" | "Max", a: PrimExpr, b: PrimExpr): PrimExpr {
    const isMin = kind === "Min";
    const ab = this.constIntBound(a), bb = this.constIntBound(b);
    if (ab.max <= bb.min) return isMin ? a : b; // a <= b
    if (ab.min >= bb.max) return isMin ? b : a; // a >= b
    const d = this.#boundOfDiff(a, b);
    if (d.max <= 0) return isMin ? a : b; // a - b <= 0
    if (d.min >= 0) return isMin ? b : a; // a - b >= 0
    return this.#rules(binary(kind, a, b), isMin ? minRules : maxRules);
  }

  /** Integer comparison: decided from bounds of `a - b`, else put in canonical form. */
  #compare(kind: CmpKind, a: PrimExpr, b: PrimExpr): PrimExpr | undefined {
    const d = LinearSum.of(a).addExpr(b, -1);
    if (!d.isExact) return undefined;
    const db = d.isConstant ? pointBound(d.constant) : this.constIntBound(d.toExpr());
    const decided = decide(kind, db);
    if (decided !== undefined) return boolImm(decided);
    if (!isSignedInt(a.dtype)) return undefined;
    // d op 0  <=>  g*T + k op 0  <=>  T op' m, with T = P - N split into its positive and
    // negative parts.
    const g = d.coefGcd(false), k = d.constant;
    let op: CmpKind = kind;
    let m: number;
    const M = -k;
    switch (kind) {
      case "LT":
      case "GE":
        m = Math.ceil(M / g);
        break;
      case "LE":
      case "GT":
        m = Math.floor(M / g);
        break;
      case "EQ":
      case "NE":
        if (M % g !== 0) return boolImm(kind === "NE"); // g*T == M has no integer solution
        m = M / g;
        break;
    }
    const pos = new LinearSum(a.dtype), negs = new LinearSum(a.dtype);
    for (const t of d.terms) {
      if (t.coef > 0) pos.addTerm(t.term, t.coef / g);
      else negs.addTerm(t.term, -t.coef / g);
    }
    if (!pos.isConstant) {
      negs.constant = m;
      return binary(op, pos.toExpr(), negs.toExpr()); // P - N op m  ->  P op N + m
    }
    op = flipCmp[op];
    return binary(op, negs.toExpr(), intImm(-m, a.dtype)); // -N op m  ->  N op' -m
  }
}

/** Decides `d op 0` from the bound of `d`, or `undefined`. */
function decide(kind: CmpKind, db: IntBound): boolean | undefined {
  if (db.min === db.max && Number.isFinite(db.min)) return foldIntOp(kind, db.min, 0) === 1;
  switch (kind) {
    case "LT":
      return db.max < 0 ? true : db.min >= 0 ? false : undefined;
    case "LE":
      return db.max <= 0 ? true : db.min > 0 ? false : undefined;
    case "GT":
      return db.min > 0 ? true : db.max <= 0 ? false : undefined;
    case "GE":
      return db.min >= 0 ? true : db.max < 0 ? false : undefined;
    case "EQ":
      return db.max < 0 || db.min > 0 ? false : undefined;
    case "NE":
      return db.max < 0 || db.min > 0 ? true : undefined;
  }
}

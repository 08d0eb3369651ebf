/**
 * `AnnotateTIROpPattern`: reads each PrimFunc's fusion pattern kind off its blocks and records
 * it as the `"op_pattern"` function attribute (TVM's integer kinds: 0 elemwise, 1 broadcast,
 * 2 injective, 3 comm-reduce, 4 out-elemwise-fusable, 8 opaque), which `FuseOps` reads.
 *
 * The analysis looks at every block below the root block: a block must hold exactly one
 * `BufferStore` (else the function is opaque); each load is compared with the store's indices:
 * the same indices are elementwise, a subset in order (unit dimensions read at 0 skipped) is a
 * broadcast, loads whose index variables all occur among the store's plain-variable indices are
 * injective. A block that matches none of these but has reduction axes is a multiply-add
 * (`C[i, j] = C[i, j] + A[i, k] * B[k, j]`, out-elemwise-fusable), a pure reduction (comm-reduce)
 * or a windowed one like pooling (out-elemwise-fusable); anything else is opaque. The function's
 * kind is the most complex of its blocks, except that an injective output block after a
 * reduction (softmax) makes it out-elemwise-fusable.
 *
 * @module
 */

import {
  type Buffer,
  type BufferLoad,
  isPrimExpr,
  type PrimExpr,
  type Var,
} from "../../ir/expr.ts";
import { type OpPattern, PATTERN_RANK } from "../../ir/relax/op/registry.ts";
import { structuralEqual } from "../../ir/structural.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { BufferStore, SBlock, Stmt } from "../../ir/tir/stmt.ts";
import { visitPrimExpr } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";

/** The function attribute holding the pattern kind. */
export const OP_PATTERN_ATTR = "op_pattern";

/** Pattern names by their TVM integer kind. */
const KIND_NAMES: { readonly [kind: number]: OpPattern } = {
  0: "elemwise",
  1: "broadcast",
  2: "injective",
  3: "reduction",
  4: "out-elemwise-fusable",
  8: "opaque",
};

/** The pattern named by a TVM integer kind (`7`, TVM's tuple kind, and unknown kinds are opaque). */
export function patternOfKind(kind: number): OpPattern {
  return KIND_NAMES[kind] ?? "opaque";
}

const ELEMWISE = PATTERN_RANK["elemwise"];
const BROADCAST = PATTERN_RANK["broadcast"];
const INJECTIVE = PATTERN_RANK["injective"];
const REDUCE = PATTERN_RANK["reduction"];
const OUT_EWISE = PATTERN_RANK["out-elemwise-fusable"];
const OPAQUE = PATTERN_RANK["opaque"];

function sameIndex(a: PrimExpr, b: PrimExpr): boolean {
  return a === b || structuralEqual(a, b);
}

function sameIndices(a: readonly PrimExpr[], b: readonly PrimExpr[]): boolean {
  return a.length === b.length && a.every((x, i) => sameIndex(x, b[i]!));
}

function isConst(e: PrimExpr | undefined, v: number): boolean {
  return e !== undefined && e.kind === "IntImm" && e.value === v;
}

function usesVar(e: PrimExpr, pred: (v: Var) => boolean): boolean {
  let found = false;
  visitPrimExpr(e, (x) => {
    if (x.kind === "Var" && pred(x)) found = true;
    return !found;
  });
  return found;
}

/** The store's indices as variables, or `undefined` when one is not a plain variable. */
function storeVars(store: BufferStore): Set<Var> | undefined {
  const vars = new Set<Var>();
  for (const i of store.indices) {
    if (i.kind !== "Var") return undefined;
    vars.add(i);
  }
  return vars;
}

// A[i, j] = B[i, j]
function isElemwise(store: BufferStore, load: BufferLoad): boolean {
  return sameIndices(store.indices, load.indices);
}

// A[i, j] = B[j] (load indices found among the store's, in order; unit dims read at 0 skipped)
function isBroadcast(store: BufferStore, load: BufferLoad): boolean {
  let j = 0;
  for (let i = 0; i < load.indices.length; i++) {
    if (isConst(load.buffer.shape[i], 1) && isConst(load.indices[i], 0)) continue;
    while (j < store.indices.length && !sameIndex(store.indices[j]!, load.indices[i]!)) j++;
    if (j === store.indices.length) return false;
  }
  return true;
}

// A[i, j] = B[j, i] or B[i - j]: every variable of the load indices is a store index variable
function isInjective(store: BufferStore, load: BufferLoad): boolean {
  const vars = storeVars(store);
  if (!vars) return false;
  return !load.indices.some((i) => usesVar(i, (v) => !vars.has(v)));
}

// C[i, j] with A[i, k]: some store variable is not used by the load (data is reused)
function allowsReuse(store: BufferStore, load: BufferLoad): boolean {
  const vars = storeVars(store);
  if (!vars) return false;
  for (const i of load.indices) {
    visitPrimExpr(i, (x) => {
      if (x.kind === "Var") vars.delete(x);
    });
  }
  return vars.size > 0;
}

function stripCast(e: PrimExpr): PrimExpr {
  while (e.kind === "Cast") e = e.value;
  return e;
}

// C[i, j] = C[i, j] + A[i, k] * B[k, j]
function isMultiplyAdd(body: Stmt): boolean {
  if (body.kind !== "BufferStore") return false;
  const add = stripCast(body.value);
  if (add.kind !== "Add") return false;
  const mul = stripCast(add.b);
  if (mul.kind !== "Mul") return false;
  const acc = stripCast(add.a);
  if (
    acc.kind !== "BufferLoad" || acc.buffer !== body.buffer ||
    !sameIndices(acc.indices, body.indices)
  ) {
    return false;
  }
  const lhs = stripCast(mul.a);
  const rhs = stripCast(mul.b);
  if (lhs.kind !== "BufferLoad" || rhs.kind !== "BufferLoad") return false;
  return allowsReuse(body, lhs) && allowsReuse(body, rhs);
}

// A[i] = sum(B[i, k]): every index touching a reduction variable is that variable itself
function isPureReduce(reduceVars: readonly Var[], indices: readonly PrimExpr[]): boolean {
  for (const e of indices) {
    let hit: Var | undefined;
    usesVar(e, (v) => {
      if (reduceVars.includes(v)) hit = v;
      return hit !== undefined;
    });
    if (hit && e !== hit) return false;
  }
  return true;
}

class PatternAnalyzer {
  kind = ELEMWISE;
  #store: BufferStore | undefined;
  #loads: BufferLoad[] = [];
  readonly #params: ReadonlySet<Buffer>;

  constructor(f: PrimFunc) {
    this.#params = new Set(f.bufferMap.values());
  }

  stmt(s: Stmt): void {
    switch (s.kind) {
      case "For":
        this.expr(s.min);
        this.expr(s.extent);
        return this.stmt(s.body);
      case "SBlockRealize":
        s.iterValues.forEach((v) => this.expr(v));
        this.expr(s.predicate);
        return this.block(s.block);
      case "SBlock":
        return this.block(s);
      case "BufferStore":
        if (this.#store && !sameIndices(s.indices, this.#store.indices)) {
          this.kind = OPAQUE;
          return;
        }
        this.#store = s;
        this.expr(s.value);
        s.indices.forEach((i) => this.expr(i));
        return;
      case "SeqStmt":
        return s.seq.forEach((x) => this.stmt(x));
      case "IfThenElse":
        this.expr(s.cond);
        this.stmt(s.then);
        if (s.else) this.stmt(s.else);
        return;
      case "LetStmt":
        this.expr(s.value);
        return this.stmt(s.body);
      case "Evaluate":
        return this.expr(s.value);
      case "AllocBuffer":
      case "DeclBuffer":
        return this.stmt(s.body);
      case "AssertStmt":
      case "While":
        this.expr(s.cond);
        return this.stmt(s.body);
      default:
        s satisfies never;
    }
  }

  expr(e: PrimExpr): void {
    visitPrimExpr(e, (x) => {
      if (x.kind === "BufferLoad") this.#loads.push(x);
    });
  }

  block(b: SBlock): void {
    if (b.name === "root") return this.stmt(b.body);
    this.#loads = [];
    this.#store = undefined;
    this.stmt(b.body);
    const store = this.#store as BufferStore | undefined;
    if (!store) {
      this.kind = OPAQUE;
      return;
    }
    // The index pattern of the block: the most complex over its loads.
    let pattern = ELEMWISE;
    let hasElemwise = false;
    for (const load of this.#loads) {
      if (isElemwise(store, load)) hasElemwise = true;
      else if (isBroadcast(store, load)) pattern = Math.max(pattern, BROADCAST);
      else if (isInjective(store, load)) pattern = Math.max(pattern, INJECTIVE);
      else {
        pattern = OPAQUE;
        break;
      }
    }
    // A[i, j] = B[i, j] + C[j] counts as elementwise.
    if (pattern === BROADCAST && hasElemwise) pattern = ELEMWISE;
    if (pattern !== OPAQUE) {
      // An injective output block after a reduction (softmax).
      if (this.kind === REDUCE && b.writes.some((w) => this.#params.has(w.buffer))) {
        this.kind = OUT_EWISE;
      } else {
        this.kind = Math.max(this.kind, pattern);
      }
      return;
    }
    const reduceVars = b.iterVars.filter((iv) => iv.iterKind === "reduce").map((iv) => iv.var);
    if (reduceVars.length === 0) {
      this.kind = OPAQUE;
      return;
    }
    if (isMultiplyAdd(b.body)) {
      this.kind = Math.max(this.kind, OUT_EWISE);
      return;
    }
    // A reduction over a window (pooling) is out-elemwise-fusable.
    if (this.#loads.some((l) => !isPureReduce(reduceVars, l.indices))) {
      this.kind = Math.max(this.kind, OUT_EWISE);
      return;
    }
    this.kind = Math.max(this.kind, REDUCE);
  }
}

/** The fusion pattern of a PrimFunc, read off the structure of its blocks. */
export function analyzeOpPattern(f: PrimFunc): OpPattern {
  const a = new PatternAnalyzer(f);
  a.stmt(f.body);
  return patternOfKind(a.kind);
}

/** The `"op_pattern"` attribute of a PrimFunc as an integer kind, or `undefined`. */
export function opPatternAttr(f: PrimFunc): number | undefined {
  const v = f.attrs[OP_PATTERN_ATTR];
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (isPrimExpr(v) && v.kind === "IntImm") return v.value;
  return undefined;
}

/** `f` with its `"op_pattern"` attribute set from {@link analyzeOpPattern}, unless already set. */
export function annotateOpPattern(f: PrimFunc): PrimFunc {
  const old = opPatternAttr(f);
  // A nonzero annotation is trusted, as in TVM; a zero one is checked again.
  if (old !== undefined && old !== 0) return f;
  const kind = PATTERN_RANK[analyzeOpPattern(f)];
  if (old === kind) return f;
  return { ...f, attrs: { ...f.attrs, [OP_PATTERN_ATTR]: kind } };
}

/**
 * The `AnnotateTIROpPattern` pass: sets `"op_pattern"` on every PrimFunc that lacks it (see the
 * module documentation for the analysis). Returns the module itself when every PrimFunc already
 * carries its pattern.
 */
export function annotateTIROpPattern(): Pass {
  return primFuncPass("AnnotateTIROpPattern", (f) => annotateOpPattern(f));
}

/**
 * Helpers shared by the TIR lowering passes of this folder: substitution, expression equality,
 * variable use and no-op tests.
 *
 * @module
 */

import type { Analyzer } from "../../ir/arith/analyzer.ts";
import { isInt, lanes } from "../../ir/dtype.ts";
import type { Buffer, PrimExpr, Range, Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { evaluate, type Stmt } from "../../ir/tir/stmt.ts";
import { rewritePrimExpr, rewriteStmt, visitPrimExpr, visitStmt } from "../../ir/visit.ts";

/** Replaces the variables of `map` in `e`. Returns `e` itself when nothing was replaced. */
export function substituteExpr(e: PrimExpr, map: ReadonlyMap<Var, PrimExpr>): PrimExpr {
  if (map.size === 0) return e;
  return rewritePrimExpr(e, { expr: (x) => (x.kind === "Var" ? map.get(x) : undefined) });
}

/** Replaces the variables of `map` everywhere in `s` (not at their definition points). */
export function substituteStmt(s: Stmt, map: ReadonlyMap<Var, PrimExpr>): Stmt {
  if (map.size === 0) return s;
  return rewriteStmt(s, { expr: (x) => (x.kind === "Var" ? map.get(x) : undefined) });
}

/** Deep equality of two expressions; variables compare by identity, buffers by identity. */
export function exprEqual(a: PrimExpr, b: PrimExpr): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || a.dtype !== b.dtype) return false;
  switch (a.kind) {
    case "Var":
      return false;
    case "IntImm":
    case "FloatImm":
    case "StringImm":
      return a.value === (b as typeof a).value;
    case "Not":
      return exprEqual(a.a, (b as typeof a).a);
    case "Select": {
      const y = b as typeof a;
      return exprEqual(a.cond, y.cond) && exprEqual(a.t, y.t) && exprEqual(a.f, y.f);
    }
    case "Cast":
      return exprEqual(a.value, (b as typeof a).value);
    case "Let": {
      const y = b as typeof a;
      return a.var === y.var && exprEqual(a.value, y.value) && exprEqual(a.body, y.body);
    }
    case "Call": {
      const y = b as typeof a;
      return a.op === y.op && arrEqual(a.args, y.args);
    }
    case "BufferLoad": {
      const y = b as typeof a;
      return a.buffer === y.buffer && arrEqual(a.indices, y.indices);
    }
    case "Ramp": {
      const y = b as typeof a;
      return a.lanes === y.lanes && exprEqual(a.base, y.base) && exprEqual(a.stride, y.stride);
    }
    case "Broadcast": {
      const y = b as typeof a;
      return a.lanes === y.lanes && exprEqual(a.value, y.value);
    }
    default: {
      const y = b as typeof a;
      return exprEqual(a.a, y.a) && exprEqual(a.b, y.b);
    }
  }
}

function arrEqual(a: readonly PrimExpr[], b: readonly PrimExpr[]): boolean {
  return a.length === b.length && a.every((x, i) => exprEqual(x, b[i]!));
}

/** Whether `e` mentions a variable for which `pred` holds. */
export function usesVar(e: PrimExpr, pred: (v: Var) => boolean): boolean {
  let found = false;
  visitPrimExpr(e, (x) => {
    if (found) return false;
    if (x.kind === "Var" && pred(x)) found = true;
    return undefined;
  });
  return found;
}

/** Whether a statement mentions a variable for which `pred` holds (in any expression). */
export function stmtUsesVar(s: Stmt, pred: (v: Var) => boolean): boolean {
  let found = false;
  visitStmt(s, {
    expr: (x) => {
      if (x.kind === "Var" && pred(x)) found = true;
    },
  });
  return found;
}

/** Whether a statement does nothing: `T.evaluate(c)` of a constant, or an empty sequence. */
export function isNoOp(s: Stmt): boolean {
  if (s.kind === "Evaluate") {
    const k = s.value.kind;
    return k === "IntImm" || k === "FloatImm" || k === "StringImm";
  }
  return s.kind === "SeqStmt" && s.seq.every(isNoOp);
}

/** The canonical no-op statement, `T.evaluate(0)`. */
export function noOpStmt(): Stmt {
  return evaluate(0);
}

/** The name under which a PrimFunc appears in messages. */
export function funcName(f: PrimFunc, name: string | undefined): string {
  if (name !== undefined) return name;
  const g = f.attrs["global_symbol"];
  return typeof g === "string" ? g : "<anonymous>";
}

/** Whether `b` is already flat: one dimension, compact, no element offset. */
export function isFlatBuffer(b: Buffer): boolean {
  return b.shape.length === 1 && b.strides.length === 0 && b.elemOffset.kind === "IntImm" &&
    b.elemOffset.value === 0;
}

/** The statements directly under `s`, in program order. */
export function stmtChildren(s: Stmt): readonly Stmt[] {
  switch (s.kind) {
    case "For":
    case "LetStmt":
    case "AllocBuffer":
    case "DeclBuffer":
    case "AssertStmt":
    case "While":
      return [s.body];
    case "SBlock":
      return s.init === undefined ? [s.body] : [s.init, s.body];
    case "SBlockRealize":
      return [s.block];
    case "SeqStmt":
      return s.seq;
    case "IfThenElse":
      return s.else === undefined ? [s.then] : [s.then, s.else];
    case "BufferStore":
    case "Evaluate":
      return [];
    default:
      s satisfies never;
      throw new Error("unreachable");
  }
}

/**
 * The expressions directly held by `s` (not those of child statements). Block access regions
 * and iteration domains are included; the buffer of a store is not an expression.
 */
export function stmtExprs(s: Stmt): readonly PrimExpr[] {
  switch (s.kind) {
    case "For":
      return [s.min, s.extent];
    case "SBlock": {
      const out: PrimExpr[] = [];
      for (const iv of s.iterVars) out.push(iv.dom.min, iv.dom.extent);
      for (const r of [...s.reads, ...s.writes, ...s.matchBuffers.map((m) => m.source)]) {
        for (const x of r.region) out.push(x.min, x.extent);
      }
      return out;
    }
    case "SBlockRealize":
      return [...s.iterValues, s.predicate];
    case "BufferStore":
      return [s.value, ...s.indices];
    case "IfThenElse":
    case "AssertStmt":
    case "While":
      return [s.cond];
    case "LetStmt":
      return [s.value];
    case "Evaluate":
      return [s.value];
    case "SeqStmt":
    case "AllocBuffer":
    case "DeclBuffer":
      return [];
    default:
      s satisfies never;
      throw new Error("unreachable");
  }
}

/** Runs `fn` with `v` bound to a range or a value in `an`; the binding is undone afterwards. */
export function withBinding<T>(an: Analyzer, v: Var, dom: Range | PrimExpr, fn: () => T): T {
  return an.withScope(() => {
    an.bind(v, dom);
    return fn();
  });
}

/**
 * Runs `fn` with what is known about `let v = value` in `an`: trivial values (a variable or a
 * constant) are substituted, other integer values only bound by their constant range, so that
 * simplification never duplicates or moves a computation.
 */
export function withLet<T>(an: Analyzer, v: Var, value: PrimExpr, fn: () => T): T {
  return an.withScope(() => {
    if (value.kind === "Var" || value.kind === "IntImm") an.bind(v, value);
    else if (isInt(v.dtype) && lanes(v.dtype) === 1) {
      const b = an.constIntBound(value);
      if (b.min <= b.max) an.bindConstBound(v, b);
    }
    return fn();
  });
}

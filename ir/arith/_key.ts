/**
 * Structural keys of expressions, used by the simplifier to recognize equal terms.
 *
 * Two expressions with the same key compute the same value: variables and buffers are compared
 * by identity, and the operands of commutative integer operators are sorted, so `x * y` and
 * `y * x` share a key. Private to `ir/arith/`.
 *
 * @module
 */

import { isInt, lanes } from "../dtype.ts";
import type { PrimExpr, Var } from "../expr.ts";

const ids = new WeakMap<object, number>();
let nextId = 0;

function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}

const keys = new WeakMap<PrimExpr, string>();

function isScalarInt(e: PrimExpr): boolean {
  return isInt(e.dtype) && lanes(e.dtype) === 1;
}

/** Collects the signed operands of a chain of integer additions and subtractions. */
function sumKeys(e: PrimExpr, sign: string, out: string[]): void {
  if ((e.kind === "Add" || e.kind === "Sub") && isScalarInt(e)) {
    sumKeys(e.a, sign, out);
    sumKeys(e.b, e.kind === "Sub" ? (sign === "+" ? "-" : "+") : sign, out);
    return;
  }
  out.push(sign + exprKey(e));
}

/** Collects the factors of a chain of integer multiplications. */
function productKeys(e: PrimExpr, out: string[]): void {
  if (e.kind === "Mul" && isScalarInt(e)) {
    productKeys(e.a, out);
    productKeys(e.b, out);
    return;
  }
  out.push(exprKey(e));
}

function computeKey(e: PrimExpr): string {
  switch (e.kind) {
    case "Var":
      return `$${idOf(e)}`;
    case "IntImm":
    case "FloatImm":
      return `${e.value}:${e.dtype}`;
    case "StringImm":
      return JSON.stringify(e.value);
    case "Add":
    case "Sub":
      if (isScalarInt(e)) {
        const parts: string[] = [];
        sumKeys(e, "+", parts);
        return `(+ ${parts.sort().join(" ")})`;
      }
      return `(${e.kind} ${exprKey(e.a)} ${exprKey(e.b)})`;
    case "Mul":
      if (isScalarInt(e)) {
        const parts: string[] = [];
        productKeys(e, parts);
        return `(* ${parts.sort().join(" ")})`;
      }
      return `(Mul ${exprKey(e.a)} ${exprKey(e.b)})`;
    case "Min":
    case "Max":
      if (isScalarInt(e)) return `(${e.kind} ${[exprKey(e.a), exprKey(e.b)].sort().join(" ")})`;
      return `(${e.kind} ${exprKey(e.a)} ${exprKey(e.b)})`;
    case "EQ":
    case "NE":
    case "And":
    case "Or":
      return `(${e.kind} ${[exprKey(e.a), exprKey(e.b)].sort().join(" ")})`;
    case "Div":
    case "Mod":
    case "FloorDiv":
    case "FloorMod":
    case "LT":
    case "LE":
    case "GT":
    case "GE":
      return `(${e.kind}:${e.dtype} ${exprKey(e.a)} ${exprKey(e.b)})`;
    case "Not":
      return `(Not ${exprKey(e.a)})`;
    case "Select":
      return `(Select ${exprKey(e.cond)} ${exprKey(e.t)} ${exprKey(e.f)})`;
    case "Cast":
      return `(Cast:${e.dtype} ${exprKey(e.value)})`;
    case "Let":
      return `(Let ${exprKey(e.var)} ${exprKey(e.value)} ${exprKey(e.body)})`;
    case "Call":
      return `(Call:${e.dtype} ${e.op} ${e.args.map(exprKey).join(" ")})`;
    case "BufferLoad":
      return `(Load #${idOf(e.buffer)} ${e.indices.map(exprKey).join(" ")})`;
    case "Ramp":
      return `(Ramp ${exprKey(e.base)} ${exprKey(e.stride)} ${e.lanes})`;
    case "Broadcast":
      return `(Broadcast ${exprKey(e.value)} ${e.lanes})`;
    default:
      e satisfies never;
      throw new Error("unreachable");
  }
}

/** A string that is equal for two expressions known to compute the same value. */
export function exprKey(e: PrimExpr): string {
  let k = keys.get(e);
  if (k === undefined) {
    k = computeKey(e);
    keys.set(e, k);
  }
  return k;
}

/** Whether two expressions are structurally the same (up to commutative operand order). */
export function sameExpr(a: PrimExpr, b: PrimExpr): boolean {
  return a === b || (a.dtype === b.dtype && exprKey(a) === exprKey(b));
}

/** Whether two expressions are exactly the same tree (same operand order, same variables). */
export function identical(a: PrimExpr, b: PrimExpr): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || a.dtype !== b.dtype) return false;
  const same = (x: readonly PrimExpr[], y: readonly PrimExpr[]) =>
    x.length === y.length && x.every((v, i) => identical(v, y[i]!));
  switch (a.kind) {
    case "Var":
      return false;
    case "IntImm":
    case "FloatImm":
    case "StringImm":
      return Object.is(a.value, (b as typeof a).value);
    case "Not":
      return identical(a.a, (b as typeof a).a);
    case "Select": {
      const o = b as typeof a;
      return same([a.cond, a.t, a.f], [o.cond, o.t, o.f]);
    }
    case "Cast":
      return identical(a.value, (b as typeof a).value);
    case "Let": {
      const o = b as typeof a;
      return a.var === o.var && same([a.value, a.body], [o.value, o.body]);
    }
    case "Call": {
      const o = b as typeof a;
      return a.op === o.op && same(a.args, o.args);
    }
    case "BufferLoad": {
      const o = b as typeof a;
      return a.buffer === o.buffer && same(a.indices, o.indices);
    }
    case "Ramp": {
      const o = b as typeof a;
      return a.lanes === o.lanes && same([a.base, a.stride], [o.base, o.stride]);
    }
    case "Broadcast": {
      const o = b as typeof a;
      return a.lanes === o.lanes && identical(a.value, o.value);
    }
    default: {
      const o = b as typeof a;
      return identical(a.a, o.a) && identical(a.b, o.b);
    }
  }
}

/** The variables that occur free in `e` (let-bound variables excluded), in first-use order. */
export function freeVars(e: PrimExpr): Var[] {
  const out = new Set<Var>();
  const bound = new Set<Var>();
  const walk = (x: PrimExpr): void => {
    switch (x.kind) {
      case "Var":
        if (!bound.has(x)) out.add(x);
        return;
      case "IntImm":
      case "FloatImm":
      case "StringImm":
        return;
      case "Add":
      case "Sub":
      case "Mul":
      case "Div":
      case "Mod":
      case "FloorDiv":
      case "FloorMod":
      case "Min":
      case "Max":
      case "EQ":
      case "NE":
      case "LT":
      case "LE":
      case "GT":
      case "GE":
      case "And":
      case "Or":
        walk(x.a);
        walk(x.b);
        return;
      case "Not":
        walk(x.a);
        return;
      case "Select":
        walk(x.cond);
        walk(x.t);
        walk(x.f);
        return;
      case "Cast":
        walk(x.value);
        return;
      case "Let":
        walk(x.value);
        bound.add(x.var);
        walk(x.body);
        return;
      case "Call":
        x.args.forEach(walk);
        return;
      case "BufferLoad":
        x.indices.forEach(walk);
        return;
      case "Ramp":
        walk(x.base);
        walk(x.stride);
        return;
      case "Broadcast":
        walk(x.value);
        return;
      default:
        x satisfies never;
    }
  };
  walk(e);
  return [...out];
}

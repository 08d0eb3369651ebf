/**
 * `Simplify`: simplifies the integer expressions of a PrimFunc with the arithmetic analyzer,
 * using loop ranges and let values, and removes statements that provably do nothing.
 *
 * @module
 */

import { Analyzer } from "../../ir/arith/analyzer.ts";
import { isBool, isInt, lanes } from "../../ir/dtype.ts";
import { copyExpr, type PrimExpr, range } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { BufferRegion, IterVar, SBlock, Stmt } from "../../ir/tir/stmt.ts";
import { visitPrimExpr } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";
import { exprEqual, isNoOp, noOpStmt, stmtUsesVar, withBinding, withLet } from "./_util.ts";

function same<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function hasOpaquePart(e: PrimExpr): boolean {
  let found = false;
  visitPrimExpr(e, (x) => {
    if (found) return false;
    if (x.kind === "BufferLoad" || x.kind === "Call" || x.kind === "Let") found = true;
    return undefined;
  });
  return found;
}

function constBool(e: PrimExpr): boolean | undefined {
  return e.kind === "IntImm" && isBool(e.dtype) ? e.value !== 0 : undefined;
}

class Simplifier {
  readonly an = new Analyzer();

  /**
   * Simplifies scalar integer and bool subexpressions that are pure arithmetic; descends
   * through everything else (float math, loads, calls) to reach their integer parts.
   */
  expr(e: PrimExpr): PrimExpr {
    const t = e.dtype;
    if ((isInt(t) || isBool(t)) && lanes(t) === 1 && !hasOpaquePart(e)) {
      const r = this.an.simplify(e);
      return exprEqual(r, e) ? e : r;
    }
    switch (e.kind) {
      case "Var":
      case "IntImm":
      case "FloatImm":
      case "StringImm":
        return e;
      case "Not":
        return this.#rebuild(e, { a: this.expr(e.a) });
      case "Select":
        return this.#rebuild(e, { cond: this.expr(e.cond), t: this.expr(e.t), f: this.expr(e.f) });
      case "Cast":
        return this.#rebuild(e, { value: this.expr(e.value) });
      case "Let":
        return this.#rebuild(e, { value: this.expr(e.value), body: this.expr(e.body) });
      case "Call": {
        const args = e.args.map((a) => this.expr(a));
        return same(args, e.args) ? e : copyExpr(e, { args });
      }
      case "BufferLoad": {
        const indices = e.indices.map((a) => this.expr(a));
        return same(indices, e.indices) ? e : copyExpr(e, { indices });
      }
      case "Ramp":
        return this.#rebuild(e, { base: this.expr(e.base), stride: this.expr(e.stride) });
      case "Broadcast":
        return this.#rebuild(e, { value: this.expr(e.value) });
      default:
        return this.#rebuild(e, { a: this.expr(e.a), b: this.expr(e.b) });
    }
  }

  #rebuild<T extends PrimExpr>(e: T, fields: Partial<Omit<T, "kind">>): T {
    for (const k in fields) {
      if ((e as unknown as Record<string, unknown>)[k] !== (fields as Record<string, unknown>)[k]) {
        return copyExpr(e, fields);
      }
    }
    return e;
  }

  #region(r: BufferRegion): BufferRegion {
    const region = r.region.map((x) => {
      const min = this.expr(x.min), extent = this.expr(x.extent);
      return min === x.min && extent === x.extent ? x : { ...x, min, extent };
    });
    return same(region, r.region) ? r : { ...r, region };
  }

  #block(b: SBlock): SBlock {
    const bindAll = (i: number): SBlock => {
      const iv: IterVar | undefined = b.iterVars[i];
      if (iv !== undefined) return withBinding(this.an, iv.var, iv.dom, () => bindAll(i + 1));
      const reads = b.reads.map((r) => this.#region(r));
      const writes = b.writes.map((r) => this.#region(r));
      const init = b.init && this.stmt(b.init);
      const body = this.stmt(b.body);
      if (same(reads, b.reads) && same(writes, b.writes) && init === b.init && body === b.body) {
        return b;
      }
      return { ...b, reads, writes, init, body };
    };
    return bindAll(0);
  }

  stmt(s: Stmt): Stmt {
    switch (s.kind) {
      case "For": {
        const min = this.expr(s.min), extent = this.expr(s.extent);
        if (extent.kind === "IntImm" && extent.value <= 0) return noOpStmt();
        const body = withBinding(this.an, s.loopVar, range(min, extent), () => this.stmt(s.body));
        if (isNoOp(body)) return noOpStmt();
        return min === s.min && extent === s.extent && body === s.body
          ? s
          : { ...s, min, extent, body };
      }
      case "SBlock":
        return this.#block(s);
      case "SBlockRealize": {
        const iterValues = s.iterValues.map((v) => this.expr(v));
        const predicate = this.expr(s.predicate);
        if (constBool(predicate) === false) return noOpStmt();
        const block = this.#block(s.block);
        return same(iterValues, s.iterValues) && predicate === s.predicate && block === s.block
          ? s
          : { ...s, iterValues, predicate, block };
      }
      case "BufferStore": {
        const value = this.expr(s.value);
        const indices = s.indices.map((i) => this.expr(i));
        return value === s.value && same(indices, s.indices) ? s : { ...s, value, indices };
      }
      case "SeqStmt": {
        const parts: Stmt[] = [];
        for (const x of s.seq) {
          const y = this.stmt(x);
          if (isNoOp(y)) continue;
          if (y.kind === "SeqStmt") parts.push(...y.seq);
          else parts.push(y);
        }
        if (parts.length === 0) return noOpStmt();
        if (parts.length === 1) return parts[0]!;
        return same(parts, s.seq) ? s : { ...s, seq: parts };
      }
      case "IfThenElse": {
        const cond = this.expr(s.cond);
        const c = constBool(cond);
        if (c === true) return this.stmt(s.then);
        if (c === false) return s.else === undefined ? noOpStmt() : this.stmt(s.else);
        const then = this.stmt(s.then);
        const els = s.else && this.stmt(s.else);
        const elseOut = els !== undefined && isNoOp(els) ? undefined : els;
        if (isNoOp(then) && elseOut === undefined) return noOpStmt();
        return cond === s.cond && then === s.then && elseOut === s.else
          ? s
          : { ...s, cond, then, else: elseOut };
      }
      case "LetStmt": {
        const value = this.expr(s.value);
        const body = withLet(this.an, s.var, value, () => this.stmt(s.body));
        if (!stmtUsesVar(body, (v) => v === s.var)) return body;
        return value === s.value && body === s.body ? s : { ...s, value, body };
      }
      case "Evaluate": {
        const value = this.expr(s.value);
        return value === s.value ? s : { ...s, value };
      }
      case "AllocBuffer":
      case "DeclBuffer": {
        const body = this.stmt(s.body);
        if (isNoOp(body)) return noOpStmt();
        return body === s.body ? s : { ...s, body };
      }
      case "AssertStmt": {
        const cond = this.expr(s.cond);
        const body = this.stmt(s.body);
        if (constBool(cond) === true) return body;
        return cond === s.cond && body === s.body ? s : { ...s, cond, body };
      }
      case "While": {
        const cond = this.expr(s.cond);
        if (constBool(cond) === false) return noOpStmt();
        const body = this.stmt(s.body);
        return cond === s.cond && body === s.body ? s : { ...s, cond, body };
      }
      default:
        s satisfies never;
        throw new Error("unreachable");
    }
  }
}

/** Simplifies one PrimFunc; returns it unchanged when nothing simplifies. */
export function simplifyPrimFunc(f: PrimFunc): PrimFunc {
  const body = new Simplifier().stmt(f.body);
  return body === f.body ? f : { ...f, body };
}

/**
 * Simplifies TIR (TVM's `Simplify`): integer and bool expressions (indices, loop bounds,
 * conditions, block bindings and regions) are simplified by the arithmetic analyzer, which knows
 * the range of every enclosing loop and block iteration variable and the value of every
 * enclosing let. Then statements that provably do nothing go: `IfThenElse` with a constant
 * condition keeps the branch taken, loops with an empty range or a no-op body, `T.evaluate(0)`
 * inside sequences, allocations around a no-op, assertions that hold, lets whose variable is
 * unused. Float arithmetic is left as written.
 *
 * ```
 * for i, j in T.grid(4, 4):                        for i, j in T.grid(4, 4):
 *   if i * 4 + j < 16:                      =>       B[i, j] = 0
 *     B[(i * 4 + j) // 4, (i * 4 + j) % 4] = 0
 * ```
 *
 * Returns the module itself when nothing changes.
 */
export const simplifyPass: Pass = primFuncPass("Simplify", (f) => simplifyPrimFunc(f));

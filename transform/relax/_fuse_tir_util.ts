/**
 * TIR helpers of `FuseTIR`: fresh definitions for a PrimFunc (so one kernel can be inlined twice),
 * matching a callee's symbolic shapes against its arguments', substituting buffers and
 * variables in a body, and unique block names.
 *
 * @module
 */

import { displayNode } from "../../ir/display.ts";
import { dtypeCode } from "../../ir/dtype.ts";
import {
  type Buffer,
  copyExpr,
  type PrimExpr,
  primVar,
  sizeVar,
  sub,
  type Var,
} from "../../ir/expr.ts";
import { simplify } from "../../ir/arith/analyzer.ts";
import { structuralEqual } from "../../ir/structural.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { BufferRegion, SBlock, Stmt } from "../../ir/tir/stmt.ts";
import { rewritePrimExpr, rewriteStmt, visitStmt } from "../../ir/visit.ts";

function freshVar(v: Var): Var {
  return v.isSize ? sizeVar(v.name, v.dtype) : primVar(v.name, v.dtype);
}

/**
 * A copy of `f` in which every definition is new: parameters, symbolic shape variables of the
 * parameter buffers, loop, block and let variables, and every buffer.
 */
export function renewDefs(f: PrimFunc): PrimFunc {
  const vars = new Map<Var, Var>();
  const bufs = new Map<Buffer, Buffer>();
  const define = (v: Var) => {
    if (!vars.has(v)) vars.set(v, freshVar(v));
  };
  const expr = (e: PrimExpr): PrimExpr =>
    rewritePrimExpr(e, {
      expr: (x) =>
        x.kind === "Var"
          ? vars.get(x)
          : x.kind === "Let" && vars.has(x.var)
          ? copyExpr(x, { var: vars.get(x.var)! })
          : undefined,
    });
  const defineShapeVars = (b: Buffer) => {
    for (const e of [...b.shape, ...b.strides, b.elemOffset]) if (e.kind === "Var") define(e);
  };
  const renewBuffer = (b: Buffer) => {
    if (bufs.has(b)) return;
    bufs.set(b, {
      ...b,
      data: freshVar(b.data),
      shape: b.shape.map(expr),
      strides: b.strides.map(expr),
      elemOffset: expr(b.elemOffset),
    });
  };
  for (const p of f.params) {
    const b = f.bufferMap.get(p);
    if (b) defineShapeVars(b);
    else define(p);
  }
  for (const b of f.bufferMap.values()) renewBuffer(b);
  // Definitions in the body.
  const inner: Buffer[] = [];
  visitStmt(f.body, {
    stmt: (s) => {
      if (s.kind === "For") define(s.loopVar);
      else if (s.kind === "LetStmt") define(s.var);
      else if (s.kind === "AllocBuffer" || s.kind === "DeclBuffer") inner.push(s.buffer);
      else if (s.kind === "SBlockRealize" || s.kind === "SBlock") {
        const b: SBlock = s.kind === "SBlock" ? s : s.block;
        b.iterVars.forEach((iv) => define(iv.var));
        inner.push(...b.allocBuffers);
        for (const m of b.matchBuffers) {
          defineShapeVars(m.buffer);
          inner.push(m.buffer);
        }
      }
    },
    expr: (e) => {
      if (e.kind === "Let") define(e.var);
    },
  });
  inner.forEach(renewBuffer);
  const mapVar = (v: Var) => vars.get(v) ?? v;
  const body = rewriteStmt(f.body, {
    expr: (x) =>
      x.kind === "Var"
        ? vars.get(x)
        : x.kind === "Let" && vars.has(x.var)
        ? copyExpr(x, { var: mapVar(x.var) })
        : undefined,
    buffer: (b) => bufs.get(b) ?? b,
    stmt: (s) => {
      switch (s.kind) {
        case "For":
          return { ...s, loopVar: mapVar(s.loopVar) };
        case "LetStmt":
          return { ...s, var: mapVar(s.var) };
        case "SBlockRealize":
          return { ...s, block: renameIters(s.block, mapVar) };
        case "SBlock":
          return renameIters(s, mapVar);
        default:
          return undefined;
      }
    },
  });
  const params = f.params.map((p) => (f.bufferMap.has(p) ? freshVar(p) : mapVar(p)));
  const bufferMap = new Map<Var, Buffer>();
  f.params.forEach((p, i) => {
    const b = f.bufferMap.get(p);
    if (b) bufferMap.set(params[i]!, bufs.get(b)!);
  });
  return { ...f, params, bufferMap, body };
}

function renameIters(b: SBlock, mapVar: (v: Var) => Var): SBlock {
  return { ...b, iterVars: b.iterVars.map((iv) => ({ ...iv, var: mapVar(iv.var) })) };
}

/**
 * Matches a callee's parameter expressions (buffer dimensions, scalar parameters) against the
 * caller's arguments, binding the callee's symbolic variables.
 */
export class SymbolicMatcher {
  /** The callee's variables bound so far, with their values on the caller's side. */
  readonly remap = new Map<Var, PrimExpr>();

  /** Matches `param` against `arg`; throws when they cannot be equal. */
  match(param: PrimExpr, arg: PrimExpr): void {
    if (param === arg) return;
    if (dtypeCode(param.dtype) !== dtypeCode(arg.dtype)) {
      throw new Error(
        `FuseTIR: parameter expression ${
          displayNode(param)
        } of dtype ${param.dtype} cannot match the argument ${
          displayNode(arg)
        } of dtype ${arg.dtype}`,
      );
    }
    switch (param.kind) {
      case "Var": {
        const prev = this.remap.get(param);
        if (prev === undefined) this.remap.set(param, arg);
        else this.#mustEqual(prev, arg, param);
        return;
      }
      case "IntImm":
      case "FloatImm":
        if ((arg.kind === "IntImm" || arg.kind === "FloatImm") && arg.value === param.value) return;
        throw new Error(
          `FuseTIR: parameter expression ${
            displayNode(param)
          } expects the argument ${param.value}, but got ${displayNode(arg)}`,
        );
      case "Cast":
        if (arg.kind === "Cast") return this.match(param.value, arg.value);
        return this.#mustEqual(param, arg, param);
      default:
        if ("a" in param && "b" in param && arg.kind === param.kind && "a" in arg && "b" in arg) {
          this.match(param.a, arg.a);
          this.match(param.b, arg.b);
          return;
        }
        this.#mustEqual(param, arg, param);
    }
  }

  /** Matches two lists element by element. */
  matchAll(params: readonly PrimExpr[], args: readonly PrimExpr[], what: string): void {
    if (params.length !== args.length) {
      throw new Error(
        `FuseTIR: ${what} has ${params.length} dimensions, but its argument has ${args.length}`,
      );
    }
    params.forEach((p, i) => this.match(p, args[i]!));
  }

  #mustEqual(param: PrimExpr, arg: PrimExpr, origin: PrimExpr): void {
    const lhs = this.substitute(param);
    if (lhs === arg || structuralEqual(lhs, arg)) return;
    const diff = simplify(sub(lhs, arg));
    if ((diff.kind === "IntImm" || diff.kind === "FloatImm") && diff.value !== 0) {
      throw new Error(
        `FuseTIR: parameter expression ${displayNode(origin)} cannot match the argument ${
          displayNode(arg)
        }`,
      );
    }
  }

  /** `e` with the bound variables replaced. */
  substitute(e: PrimExpr): PrimExpr {
    return rewritePrimExpr(e, { expr: (x) => (x.kind === "Var" ? this.remap.get(x) : undefined) });
  }
}

function dedupRegions(rs: readonly BufferRegion[]): readonly BufferRegion[] {
  const seen = new Set<Buffer>();
  const out = rs.filter((r) => !seen.has(r.buffer) && seen.add(r.buffer));
  return out.length === rs.length ? rs : out;
}

/** Replaces buffers and variables in statements; allocated buffers get substituted shapes. */
export class BufferSubstitutor {
  readonly #bufs: Map<Buffer, Buffer>;
  readonly #vars: Map<Var, PrimExpr>;

  /** Replaces each buffer of `bufs` (and its data pointer) and each variable of `vars`. */
  constructor(bufs: ReadonlyMap<Buffer, Buffer>, vars: ReadonlyMap<Var, PrimExpr>) {
    this.#bufs = new Map(bufs);
    this.#vars = new Map(vars);
    for (const [from, to] of bufs) this.#vars.set(from.data, to.data);
  }

  /** `e` with the variables replaced. */
  expr(e: PrimExpr): PrimExpr {
    return rewritePrimExpr(e, { expr: (x) => (x.kind === "Var" ? this.#vars.get(x) : undefined) });
  }

  /** The replacement of `b`: its mapped buffer, or `b` with its shape substituted. */
  buffer(b: Buffer): Buffer {
    const known = this.#bufs.get(b);
    if (known) return known;
    const shape = b.shape.map((e) => this.expr(e));
    const strides = b.strides.map((e) => this.expr(e));
    const elemOffset = this.expr(b.elemOffset);
    const same = shape.every((e, i) => e === b.shape[i]) &&
      strides.every((e, i) => e === b.strides[i]) && elemOffset === b.elemOffset;
    const out = same ? b : { ...b, shape, strides, elemOffset };
    this.#bufs.set(b, out);
    return out;
  }

  /** `s` with buffers and variables replaced and duplicate read/write regions merged. */
  stmt(s: Stmt): Stmt {
    return rewriteStmt(s, {
      expr: (x) => (x.kind === "Var" ? this.#vars.get(x) : undefined),
      buffer: (b) => this.buffer(b),
      stmt: (x) => {
        if (x.kind !== "SBlockRealize") return undefined;
        const reads = dedupRegions(x.block.reads);
        const writes = dedupRegions(x.block.writes);
        if (reads === x.block.reads && writes === x.block.writes) return undefined;
        return { ...x, block: { ...x.block, reads, writes } };
      },
    });
  }
}

/** Renames blocks so that no two share a name (`T_add`, `T_add1`, ...; `b1`, `b2`, ...). */
export function dedupBlockNames(s: Stmt): Stmt {
  const used = new Set<string>();
  const unique = (name: string): string => {
    if (!used.has(name)) {
      used.add(name);
      return name;
    }
    const m = /^(.*?)(\d+)$/.exec(name);
    const base = m ? m[1]! : name;
    for (let i = m ? Number(m[2]) + 1 : 1;; i++) {
      const c = `${base}${i}`;
      if (!used.has(c)) {
        used.add(c);
        return c;
      }
    }
  };
  return rewriteStmt(s, {
    stmt: (x) => {
      if (x.kind !== "SBlockRealize") return undefined;
      const name = unique(x.block.name);
      return name === x.block.name ? undefined : { ...x, block: { ...x.block, name } };
    },
  });
}

/**
 * `PrimFunc`: a TIR function over buffers and scalars.
 *
 * @module
 */

import type { DType } from "../dtype.ts";
import { type Buffer, primVar, type Var } from "../expr.ts";
import type { Attrs, Stmt } from "./stmt.ts";

/** A TIR function: parameters (handles bound to buffers, or scalars), a body and attributes. */
export interface PrimFunc {
  /** The node kind. */
  readonly kind: "PrimFunc";
  /** Parameters in order; a `handle` parameter is bound to a buffer in `bufferMap`. */
  readonly params: readonly Var[];
  /** The buffer each handle parameter stands for. */
  readonly bufferMap: ReadonlyMap<Var, Buffer>;
  /** The function body. */
  readonly body: Stmt;
  /** The scalar return type (`"void"` for kernels). */
  readonly retType: DType;
  /** Function attributes (`global_symbol`, `tir.noalias`, ...). */
  readonly attrs: Attrs;
  /** Printed as `@T.prim_func(private=True)` when true. */
  readonly isPrivate: boolean;
}

/** A parameter of {@link primFunc}: a buffer (its handle is made) or a scalar variable. */
export type PrimFuncParam = Buffer | Var;

/** Options of {@link primFunc}. */
export interface PrimFuncOptions {
  /** Function attributes. */
  readonly attrs?: Attrs;
  /** Return dtype, `"void"` by default. */
  readonly retType?: DType;
  /** Whether the function is private to its module (default false). */
  readonly isPrivate?: boolean;
}

/**
 * Builds a PrimFunc. Buffers in `params` get a handle parameter each, bound in the buffer map;
 * scalar variables are passed as they are.
 */
export function primFunc(
  params: readonly PrimFuncParam[],
  body: Stmt,
  options: PrimFuncOptions = {},
): PrimFunc {
  const ps: Var[] = [];
  const map = new Map<Var, Buffer>();
  for (const p of params) {
    if (p.kind === "Buffer") {
      const h = primVar(p.name + "_handle", "handle");
      ps.push(h);
      map.set(h, p);
    } else {
      ps.push(p);
    }
  }
  return {
    kind: "PrimFunc",
    params: ps,
    bufferMap: map,
    body,
    retType: options.retType ?? "void",
    attrs: options.attrs ?? {},
    isPrivate: options.isPrivate ?? false,
  };
}

/** Builds a PrimFunc from explicit parameters and buffer map (as a parser or pass does). */
export function primFuncRaw(
  params: readonly Var[],
  bufferMap: ReadonlyMap<Var, Buffer>,
  body: Stmt,
  options: PrimFuncOptions = {},
): PrimFunc {
  for (const [h] of bufferMap) {
    if (!params.includes(h)) {
      throw new Error(`Buffer map names "${h.name}", which is not a parameter`);
    }
  }
  return {
    kind: "PrimFunc",
    params,
    bufferMap,
    body,
    retType: options.retType ?? "void",
    attrs: options.attrs ?? {},
    isPrivate: options.isPrivate ?? false,
  };
}

/** A copy of `f` with some fields replaced. */
export function updatePrimFunc(f: PrimFunc, changes: Partial<Omit<PrimFunc, "kind">>): PrimFunc {
  return { ...f, ...changes };
}

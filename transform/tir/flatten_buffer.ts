/**
 * `FlattenBuffer`: rewrites every multi-dimensional buffer access into a one-dimensional access
 * of a flat buffer on the same storage.
 *
 * @module
 */

import { add, type Buffer, intImm, mul, type PrimExpr, sub } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { declBufferStmt, type Stmt } from "../../ir/tir/stmt.ts";
import { rewritePrimFunc, visitStmt } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";
import { isFlatBuffer } from "./_util.ts";
import { copyExpr } from "../../ir/expr.ts";

function isZero(e: PrimExpr): boolean {
  return e.kind === "IntImm" && e.value === 0;
}

/**
 * The offset, in elements, of `indices` in `b`: row-major `((i0 * s1 + i1) * s2 + i2)` for a
 * compact buffer, `sum(i_k * stride_k)` for a strided one, plus the element offset.
 */
export function flatIndex(b: Buffer, indices: readonly PrimExpr[]): PrimExpr {
  if (indices.length !== b.shape.length) {
    throw new Error(
      `Buffer "${b.name}" has ${b.shape.length} dimensions, got ${indices.length} indices`,
    );
  }
  let acc: PrimExpr | undefined;
  indices.forEach((i, k) => {
    if (b.strides.length > 0) {
      const t = mul(i, b.strides[k]!);
      acc = acc === undefined ? t : add(acc, t);
    } else {
      acc = acc === undefined ? i : add(mul(acc, b.shape[k]!), i);
    }
  });
  const offset = acc ?? intImm(0, b.elemOffset.dtype);
  return isZero(b.elemOffset) ? offset : add(offset, b.elemOffset);
}

/** The number of elements the storage of `b` spans, counting its element offset. */
function flatExtent(b: Buffer): PrimExpr {
  let n: PrimExpr;
  if (b.strides.length > 0) {
    n = b.shape.reduce<PrimExpr>(
      (acc, s, k) => add(acc, mul(sub(s, 1), b.strides[k]!)),
      intImm(1, b.shape[0]?.dtype ?? "int32"),
    );
  } else {
    n = b.shape.reduce<PrimExpr>((acc, s) => mul(acc, s), intImm(1, b.shape[0]?.dtype ?? "int32"));
  }
  return isZero(b.elemOffset) ? n : add(n, b.elemOffset);
}

/** The one-dimensional view of `b`: same storage (`data`), name, dtype and scope. */
export function flattenedBuffer(b: Buffer): Buffer {
  if (isFlatBuffer(b)) return b;
  return { ...b, shape: [flatExtent(b)], strides: [], elemOffset: intImm(0, b.elemOffset.dtype) };
}

function flatten(f: PrimFunc, name: string): PrimFunc {
  const flat = new Map<Buffer, Buffer>();
  const get = (b: Buffer): Buffer => {
    let x = flat.get(b);
    if (x === undefined) {
      x = flattenedBuffer(b);
      flat.set(b, x);
    }
    return x;
  };
  const declared = new Set<Buffer>();
  visitStmt(f.body, {
    stmt: (s) => {
      if (s.kind === "SBlock" || s.kind === "SBlockRealize") {
        const blk = s.kind === "SBlock" ? s : s.block;
        throw new Error(
          `Cannot flatten "${name}": block "${blk.name}" must be lowered first (run lowerOpaqueBlock)`,
        );
      }
      if (s.kind === "DeclBuffer" || s.kind === "AllocBuffer") declared.add(s.buffer);
    },
  });
  const used = new Set<Buffer>();
  const g = rewritePrimFunc(f, {
    expr: (e) => {
      if (e.kind !== "BufferLoad" || isFlatBuffer(e.buffer)) return undefined;
      used.add(e.buffer);
      return copyExpr(e, { buffer: get(e.buffer), indices: [flatIndex(e.buffer, e.indices)] });
    },
    stmt: (s: Stmt): Stmt | undefined => {
      switch (s.kind) {
        case "BufferStore":
          if (isFlatBuffer(s.buffer)) return undefined;
          used.add(s.buffer);
          return { ...s, buffer: get(s.buffer), indices: [flatIndex(s.buffer, s.indices)] };
        case "AllocBuffer":
        case "DeclBuffer":
          return isFlatBuffer(s.buffer) ? undefined : { ...s, buffer: get(s.buffer) };
        default:
          return undefined;
      }
    },
  });
  if (g === f) return f;
  // Parameter buffers keep their shape in the buffer map; the body sees flat aliases.
  let body = g.body;
  const params = [...f.params].reverse();
  for (const p of params) {
    const b = f.bufferMap.get(p);
    if (b !== undefined && used.has(b) && !declared.has(b)) body = declBufferStmt(get(b), body);
  }
  return { ...g, body };
}

/**
 * Flattens buffer accesses (TVM's `FlattenBuffer`). Every access of a multi-dimensional buffer
 * becomes an access of a one-dimensional buffer that shares its `data` variable, at index
 * {@link flatIndex}. `AllocBuffer` and `DeclBuffer` statements get the flat buffer. Parameter
 * buffers stay as they are in the buffer map; their flat aliases are declared by `DeclBuffer`
 * statements around the body, in parameter order:
 *
 * ```
 * # A: T.Buffer((4, 8))                  A_1 = T.decl_buffer((32,), data=A.data)
 * for i, j in T.grid(4, 8):          =>  for i, j in T.grid(4, 8):
 *   A[i, j] = 0                            A_1[i * 8 + j] = 0
 * ```
 *
 * Index expressions are not simplified here (the `Simplify` pass does it). Blocks must be lowered
 * first. Returns the module itself when every access is already flat.
 */
export const flattenBuffer: Pass = primFuncPass("FlattenBuffer", (f, name) => flatten(f, name));

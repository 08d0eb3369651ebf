/**
 * `VectorizeLoop`: turns a loop marked `vectorized` into vector code. Inside the loop the loop
 * variable becomes the vector `T.Ramp(min, 1, n)`; an integer expression linear in it becomes a
 * `Ramp` (so a contiguous access keeps a recognizable `A[T.Ramp(base, 1, n)]` form that the WGSL
 * code generator emits as one `vecN` load or store), values that do not depend on it stay scalar
 * and are broadcast where they meet a vector, and everything else is computed lane-wise.
 *
 * A loop is vectorized only when its extent is a constant 2, 3 or 4 (WGSL's vector sizes) and its
 * whole body can be expressed on vectors: stores whose index depends on the loop variable, lets,
 * `if`s whose condition does not depend on it, and element-wise arithmetic, comparisons, selects,
 * casts and the element-wise intrinsics. Anything else (an inner loop, a reduction into one
 * element, division of a vector index, a buffer of bool or narrow integers) leaves the loop as it
 * is: a `vectorized` loop that the code generators run lane by lane, as Apache TVM falls back to a
 * serial loop.
 *
 * @module
 */

import { Analyzer } from "../../ir/arith/analyzer.ts";
import { LinearSum } from "../../ir/arith/linear.ts";
import { type DType, elementDType, isInt, lanes, withLanes } from "../../ir/dtype.ts";
import {
  binary,
  broadcast,
  type BufferLoad,
  castExpr,
  copyExpr,
  floordiv,
  floormod,
  isBinary,
  type PrimExpr,
  primVar,
  ramp,
  type Var,
} from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { For, Stmt } from "../../ir/tir/stmt.ts";
import { rewriteStmt } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";
import { usesVar } from "./_util.ts";

/** The element types a vector may hold (32-bit and 16-bit, as WGSL vectors do). */
const VECTOR_ELEMENTS = new Set(["float32", "float16", "int32", "uint32"]);

/** Intrinsics that act element-wise on WGSL vectors. */
const ELEMENTWISE_INTRINSICS = new Set([
  "tir.exp",
  "tir.exp2",
  "tir.log",
  "tir.log2",
  "tir.sqrt",
  "tir.rsqrt",
  "tir.sin",
  "tir.cos",
  "tir.tan",
  "tir.atan",
  "tir.floor",
  "tir.ceil",
  "tir.trunc",
  "tir.fabs",
  "tir.nearbyint",
  "tir.sigmoid",
]);

/** Thrown inside the vectorizer when the body has something it cannot vectorize. */
class NotVectorizable extends Error {}

function fail(): never {
  throw new NotVectorizable();
}

class Vectorizer {
  readonly #an = new Analyzer();
  /** Variables whose values became vectors (the loop variable, vector lets). */
  readonly #vec = new Map<Var, PrimExpr>();

  constructor(readonly loopVar: Var, readonly min: PrimExpr, readonly n: number) {
    this.#vec.set(loopVar, ramp(min, 1, n));
  }

  #dependsOnVector(e: PrimExpr): boolean {
    return usesVar(e, (v) => this.#vec.has(v));
  }

  #widen(e: PrimExpr): PrimExpr {
    return lanes(e.dtype) === this.n ? e : broadcast(e, this.n);
  }

  #checkElement(t: DType): void {
    if (!VECTOR_ELEMENTS.has(elementDType(t)) && elementDType(t) !== "bool") fail();
  }

  /**
   * An integer expression linear in the loop variable as its value at the first lane and its
   * step per lane. `floordiv`/`floormod` by a constant `c` of such an expression stays linear
   * when the lanes cannot cross a multiple of `c`: the step times the lanes divides `c` and the
   * first lane's value.
   */
  #linear(e: PrimExpr): { base: LinearSum; stride: number } | undefined {
    if (!isInt(e.dtype) || lanes(e.dtype) !== 1) return undefined;
    const sum = LinearSum.of(e);
    const base = new LinearSum(e.dtype);
    base.constant = sum.constant;
    let stride = 0;
    for (const { term, coef } of sum.terms) {
      if (term === this.loopVar) {
        stride += coef;
        base.addExpr(this.min, coef);
      } else if (!this.#dependsOnVector(term)) {
        base.addTerm(term, coef);
      } else if (
        (term.kind === "FloorDiv" || term.kind === "FloorMod") && term.b.kind === "IntImm"
      ) {
        const inner = this.#linear(term.a);
        const span = inner ? inner.stride * this.n : 0;
        const c = term.b.value;
        if (!inner || span <= 0 || c % span !== 0 || inner.base.coefGcd(true) % span !== 0) {
          return undefined;
        }
        const first = inner.base.toExpr();
        const div = term.kind === "FloorDiv";
        base.addExpr(div ? floordiv(first, c) : floormod(first, c), coef);
        if (!div) stride += inner.stride * coef;
      } else {
        return undefined;
      }
    }
    return { base, stride };
  }

  expr(e: PrimExpr): PrimExpr {
    if (!this.#dependsOnVector(e)) return e;
    const lin = this.#linear(e);
    if (lin) {
      const base = this.#an.simplify(lin.base.toExpr());
      return lin.stride === 0 ? base : ramp(base, lin.stride, this.n);
    }
    switch (e.kind) {
      case "Var":
        return this.#vec.get(e)!;
      case "BufferLoad":
        return this.#load(e);
      case "Cast": {
        const v = this.expr(e.value);
        this.#checkElement(e.dtype);
        return castExpr(withLanes(e.dtype, this.n), v);
      }
      case "Select": {
        const [c, t, f] = [e.cond, e.t, e.f].map((x) => this.#widen(this.expr(x)));
        return copyExpr(e, { cond: c!, t: t!, f: f!, dtype: t!.dtype });
      }
      case "Not": {
        const a = this.expr(e.a);
        return copyExpr(e, { a, dtype: a.dtype });
      }
      case "Call": {
        if (!ELEMENTWISE_INTRINSICS.has(e.op)) fail();
        const args = e.args.map((a) => this.#widen(this.expr(a)));
        return copyExpr(e, { args, dtype: withLanes(e.dtype, this.n) });
      }
      default:
        if (isBinary(e)) {
          // Integer division and remainder have no vector form in the code generators.
          if (e.kind === "FloorDiv" || e.kind === "FloorMod" || e.kind === "Mod") fail();
          if (e.kind === "Div" && isInt(e.dtype)) fail();
          this.#checkElement(e.a.dtype);
          return binary(e.kind, this.#widen(this.expr(e.a)), this.#widen(this.expr(e.b)));
        }
        return fail();
    }
  }

  #index(buffer: { dtype: DType }, indices: readonly PrimExpr[]): PrimExpr[] {
    if (!VECTOR_ELEMENTS.has(elementDType(buffer.dtype))) fail();
    if (indices.length !== 1) fail();
    return indices.map((i) => this.expr(i));
  }

  #load(e: BufferLoad): PrimExpr {
    const indices = this.#index(e.buffer, e.indices);
    const n = Math.max(...indices.map((i) => lanes(i.dtype)));
    return copyExpr(e, { indices, dtype: withLanes(e.buffer.dtype, n) });
  }

  stmt(s: Stmt): Stmt {
    switch (s.kind) {
      case "BufferStore": {
        const indices = this.#index(s.buffer, s.indices);
        // A store to one element from every lane is a reduction: keep the loop.
        if (indices.every((i) => lanes(i.dtype) === 1)) fail();
        const value = this.#widen(this.expr(s.value));
        return { ...s, indices, value };
      }
      case "SeqStmt":
        return { ...s, seq: s.seq.map((x) => this.stmt(x)) };
      case "LetStmt": {
        const value = this.expr(s.value);
        if (lanes(value.dtype) === 1) return { ...s, value, body: this.stmt(s.body) };
        const v = primVar(s.var.name, value.dtype);
        this.#vec.set(s.var, v);
        return { ...s, var: v, value, body: this.stmt(s.body) };
      }
      case "IfThenElse":
        if (this.#dependsOnVector(s.cond)) fail();
        return { ...s, then: this.stmt(s.then), else: s.else && this.stmt(s.else) };
      case "DeclBuffer":
        return { ...s, body: this.stmt(s.body) };
      case "Evaluate":
        if (!this.#dependsOnVector(s.value)) return s;
        return fail();
      default:
        return fail();
    }
  }
}

/** The vector form of a `vectorized` loop's body, or `undefined` when it has none. */
function vectorizeBody(loop: For): Stmt | undefined {
  const { min, extent } = loop;
  if (extent.kind !== "IntImm" || extent.value < 2 || extent.value > 4) return undefined;
  try {
    return new Vectorizer(loop.loopVar, min, extent.value).stmt(loop.body);
  } catch (e) {
    if (e instanceof NotVectorizable) return undefined;
    throw e;
  }
}

/** Vectorizes the `vectorized` loops of a lowered PrimFunc (see the module docs). */
export function vectorizeLoops(f: PrimFunc): PrimFunc {
  let changed = false;
  const body = rewriteStmt(f.body, {
    stmt: (s) => {
      if (s.kind !== "For" || s.forKind !== "vectorized") return undefined;
      const v = vectorizeBody(s);
      if (!v) return undefined;
      changed = true;
      return v;
    },
  });
  return changed ? { ...f, body } : f;
}

/** The `VectorizeLoop` pass: {@link vectorizeLoops} on every PrimFunc. */
export const vectorizeLoop: Pass = primFuncPass("VectorizeLoop", (f) => vectorizeLoops(f));

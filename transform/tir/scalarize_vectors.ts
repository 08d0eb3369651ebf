/**
 * `ScalarizeVectors`: the inverse of {@link vectorizeLoop} for targets without vector types (the
 * JS target). A store of a vector becomes one store per lane (every lane's value computed first,
 * so lanes see memory as a vector store does), a vector let becomes one let per lane, and each
 * lane's expression is the vector expression at that lane (`T.Ramp(b, s, n)` at lane `l` is
 * `b + s * l`, `T.Broadcast(x, n)` is `x`).
 *
 * @module
 */

import { elementDType, lanes, type ScalarDType } from "../../ir/dtype.ts";
import {
  add,
  binary,
  type Broadcast,
  copyExpr,
  isBinary,
  mul,
  type PrimExpr,
  primVar,
  type Ramp,
  type Var,
} from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { bufferStore, letStmt, seq, type Stmt } from "../../ir/tir/stmt.ts";
import { rewriteStmt } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";

/** Lane `l` of a ramp (`base + stride * l`) or broadcast (its value). */
export function patternLane(e: Ramp | Broadcast, l: number): PrimExpr {
  if (e.kind === "Broadcast") return e.value;
  return l === 0 ? e.base : add(e.base, mul(e.stride, l));
}

class Scalarizer {
  /** The per-lane scalar variables of each vector variable. */
  readonly #lanes = new Map<Var, readonly Var[]>();

  /** Lane `l` of `e`. */
  lane(e: PrimExpr, l: number): PrimExpr {
    if (lanes(e.dtype) === 1) return e;
    const go = (x: PrimExpr) => this.lane(x, l);
    const dtype = elementDType(e.dtype) as ScalarDType;
    switch (e.kind) {
      case "Ramp":
      case "Broadcast":
        return patternLane(e, l);
      case "Var": {
        const vs = this.#lanes.get(e);
        if (!vs) throw new Error(`Vector variable "${e.name}" is used outside its let`);
        return vs[l]!;
      }
      case "BufferLoad":
        return copyExpr(e, { indices: e.indices.map(go), dtype });
      case "Cast":
        return copyExpr(e, { value: go(e.value), dtype });
      case "Not":
        return copyExpr(e, { a: go(e.a), dtype });
      case "Select":
        return copyExpr(e, { cond: go(e.cond), t: go(e.t), f: go(e.f), dtype });
      case "Call":
        return copyExpr(e, { args: e.args.map(go), dtype });
      default:
        if (isBinary(e)) return binary(e.kind, go(e.a), go(e.b));
        throw new Error(`Cannot take a lane of ${e.kind} (${e.dtype})`);
    }
  }

  stmt(s: Stmt): Stmt {
    return rewriteStmt(s, { preStmt: (x) => this.#pre(x) });
  }

  #pre(s: Stmt): Stmt | undefined {
    if (s.kind === "LetStmt" && lanes(s.var.dtype) > 1) {
      const n = lanes(s.var.dtype);
      const vs = Array.from(
        { length: n },
        (_, l) => primVar(`${s.var.name}_${l}`, elementDType(s.var.dtype) as ScalarDType),
      );
      this.#lanes.set(s.var, vs);
      let body = this.stmt(s.body);
      for (let l = n - 1; l >= 0; l--) body = letStmt(vs[l]!, this.lane(s.value, l), body);
      return body;
    }
    if (s.kind !== "BufferStore") return undefined;
    const n = Math.max(lanes(s.value.dtype), ...s.indices.map((i) => lanes(i.dtype)));
    if (n === 1) return undefined;
    const t = elementDType(s.value.dtype) as ScalarDType;
    const vs = Array.from({ length: n }, (_, l) => primVar(`lane${l}`, t));
    const stores = vs.map((v, l) =>
      bufferStore(s.buffer, v, s.indices.map((i) => this.lane(i, l)))
    );
    let body = seq(...stores);
    for (let l = n - 1; l >= 0; l--) body = letStmt(vs[l]!, this.lane(s.value, l), body);
    return body;
  }
}

/** Rewrites the vector code of a PrimFunc lane by lane (see the module docs). */
export function scalarizeVectors(f: PrimFunc): PrimFunc {
  const body = new Scalarizer().stmt(f.body);
  return body === f.body ? f : { ...f, body };
}

/** The `ScalarizeVectors` pass: {@link scalarizeVectors} on every PrimFunc. */
export const scalarizeVectorsPass: Pass = primFuncPass(
  "ScalarizeVectors",
  (f) => scalarizeVectors(f),
);

/**
 * `BindingEmitter`: collects the bindings of one block being rewritten, normalizing each value to
 * A-normal form as `BlockBuilder.emit` does (nested calls are bound to new variables first). Used
 * by rewrites that replace one binding with several.
 *
 * @module
 */

import {
  type AnyVar,
  type Binding,
  dataflowVar,
  type Expr,
  matchCast,
  rvar,
  tuple,
  varBinding,
} from "../expr.ts";
import { inferCall } from "../op/registry.ts";
import type { StructInfo } from "../struct_info.ts";

/** Emits normalized bindings into a list (dataflow variables inside a dataflow block). */
export class BindingEmitter {
  /** The bindings emitted so far, in order. */
  readonly bindings: Binding[] = [];
  /** Whether new variables are dataflow variables. */
  readonly dataflow: boolean;

  /** An emitter for a dataflow block (`dataflow` true) or a plain binding block. */
  constructor(dataflow: boolean) {
    this.dataflow = dataflow;
  }

  /** Binds `expr` (normalized) to a new variable named `name` and returns the variable. */
  emit(expr: Expr, name = "lv"): AnyVar {
    const value = this.normalize(expr);
    const v = this.dataflow ? dataflowVar(name, value.structInfo) : rvar(name, value.structInfo);
    this.bindings.push(varBinding(v, value));
    return v;
  }

  /** Binds `expr` (normalized) to the existing variable `v`. */
  bind(v: AnyVar, expr: Expr): void {
    this.bindings.push(varBinding(v, this.normalize(expr)));
  }

  /** Emits `v = R.match_cast(value, sinfo)` with `value` normalized to a leaf. */
  matchCast(v: AnyVar, value: Expr, sinfo: StructInfo): void {
    this.bindings.push(matchCast(v, this.leaf(this.normalize(value)), sinfo));
  }

  /** Appends a binding as it is. */
  push(b: Binding): void {
    this.bindings.push(b);
  }

  /**
   * `expr` with every non-leaf argument (a call, tuple access, `if`, SeqExpr) emitted first and
   * replaced by its variable; an operator call without StructInfo gets it inferred.
   */
  normalize(expr: Expr): Expr {
    switch (expr.kind) {
      case "relax.Call": {
        const args = expr.args.map((a) => this.leaf(a));
        const op = expr.op.kind === "relax.Call" ? this.leaf(expr.op) : expr.op;
        const same = op === expr.op && args.every((a, i) => a === expr.args[i]);
        const out = same ? expr : { ...expr, op, args };
        if (out.op.kind === "relax.Op" && out.structInfo.kind === "ObjectStructInfo") {
          return { ...out, structInfo: inferCall(out) };
        }
        return out;
      }
      case "relax.TupleGetItem": {
        const t = this.leaf(expr.tuple);
        return t === expr.tuple ? expr : { ...expr, tuple: t };
      }
      case "relax.Tuple": {
        const fields = expr.fields.map((f) => this.leaf(f));
        return fields.every((f, i) => f === expr.fields[i]) ? expr : tuple(fields);
      }
      default:
        return expr;
    }
  }

  /** A leaf for `e`: `e` itself when it is one, else the variable it is emitted to. */
  leaf(e: Expr): Expr {
    switch (e.kind) {
      case "relax.Call":
      case "relax.If":
      case "relax.SeqExpr":
      case "relax.TupleGetItem":
        return this.emit(e);
      case "relax.Tuple":
        return this.normalize(e);
      default:
        return e;
    }
  }
}

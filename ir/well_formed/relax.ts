/**
 * Well-formedness of Relax functions: variable scoping (params, bindings, SeqExpr and dataflow
 * block scopes), no variable bound twice, dataflow variables kept inside their blocks, symbolic
 * shape variables defined before use, GlobalVars that name module functions, SeqExpr function
 * bodies, and bindings whose declared StructInfo contradicts their value's.
 *
 * @module
 */

import type { Var } from "../expr.ts";
import type { IRModule } from "../module.ts";
import type { AnyVar, Binding, Expr, Function, SeqExpr } from "../relax/expr.ts";
import type { StructInfo } from "../relax/struct_info.ts";
import { compactStructInfo } from "../structural/show.ts";
import { visitBindings, visitExpr } from "../visit.ts";
import { forEachFreeVar, forEachStructInfoVar, type Report } from "./report.ts";

/** Checks a Relax function; GlobalVars are checked against `mod` when given. */
export function checkRelaxFunction(f: Function, report: Report, mod: IRModule | undefined): void {
  const c = new RelaxChecker(report, mod);
  c.collect(f);
  c.function(f, true);
}

/** Whether two known StructInfos clearly contradict each other (unknown parts never do). */
export function structInfoConflicts(a: StructInfo, b: StructInfo): boolean {
  if (a.kind === "ObjectStructInfo" || b.kind === "ObjectStructInfo") return false;
  if (a.kind !== b.kind) return true;
  const dimsDiffer = (xs: readonly unknown[] | undefined, ys: readonly unknown[] | undefined) => {
    if (!xs || !ys || xs.length !== ys.length) return false;
    return xs.some((x, i) => {
      const y = ys[i] as { kind: string; value: number };
      const xx = x as { kind: string; value: number };
      return xx.kind === "IntImm" && y.kind === "IntImm" && xx.value !== y.value;
    });
  };
  switch (a.kind) {
    case "PrimStructInfo": {
      const o = b as typeof a;
      if (a.dtype !== "void" && o.dtype !== "void" && a.dtype !== o.dtype) return true;
      return !!a.value && !!o.value && dimsDiffer([a.value], [o.value]);
    }
    case "ShapeStructInfo": {
      const o = b as typeof a;
      if (a.ndim !== -1 && o.ndim !== -1 && a.ndim !== o.ndim) return true;
      return dimsDiffer(a.values, o.values);
    }
    case "TensorStructInfo": {
      const o = b as typeof a;
      if (a.ndim !== -1 && o.ndim !== -1 && a.ndim !== o.ndim) return true;
      if (a.dtype !== "void" && o.dtype !== "void" && a.dtype !== o.dtype) return true;
      return dimsDiffer(a.shape, o.shape);
    }
    case "TupleStructInfo": {
      const o = b as typeof a;
      if (a.fields.length !== o.fields.length) return true;
      return a.fields.some((f, i) => structInfoConflicts(f, o.fields[i]!));
    }
    case "FuncStructInfo":
      return false;
    default:
      a satisfies never;
      return false;
  }
}

class RelaxChecker {
  readonly #r: Report;
  readonly #mod: IRModule | undefined;
  /** Relax variables in scope. */
  readonly #scope = new Set<AnyVar>();
  /** Variables bound so far (for "defined twice"). */
  readonly #defined = new Set<AnyVar>();
  /** Every variable bound anywhere in the function (for messages about scope). */
  readonly #everywhere = new Set<AnyVar>();
  /** Dataflow variables whose block has ended. */
  readonly #expired = new Set<AnyVar>();
  /** Symbolic (TIR) variables defined so far. */
  readonly #syms = new Set<Var>();

  constructor(report: Report, mod: IRModule | undefined) {
    this.#r = report;
    this.#mod = mod;
  }

  collect(f: Function): void {
    for (const p of f.params) this.#everywhere.add(p);
    visitBindings(f.body, (b) => this.#everywhere.add(b.var));
    visitExpr(f.body, (e) => {
      if (e.kind === "relax.Function") { for (const p of e.params) this.#everywhere.add(p); }
    });
  }

  // -- variables --------------------------------------------------------------------------------

  #bind(v: AnyVar, node: unknown): void {
    if (this.#defined.has(v)) this.#r.add(`variable "${v.name}" is defined twice`, node);
    this.#defined.add(v);
    this.#scope.add(v);
  }

  #use(v: AnyVar): void {
    if (this.#scope.has(v)) return;
    if (this.#expired.has(v)) {
      this.#r.add(`dataflow variable "${v.name}" is used outside its dataflow block`, v);
    } else if (this.#everywhere.has(v)) {
      this.#r.add(`variable "${v.name}" is used outside its scope`, v);
    } else {
      this.#r.add(`variable "${v.name}" is used but never defined`, v);
    }
  }

  #defineSyms(s: StructInfo): void {
    forEachStructInfoVar(s, (v) => this.#syms.add(v));
  }

  #useSym(v: Var, node: unknown): void {
    if (!this.#syms.has(v)) {
      this.#r.add(`symbolic variable "${v.name}" is used but never defined`, node);
    }
  }

  #useSymsIn(s: StructInfo, node: unknown): void {
    forEachStructInfoVar(s, (v) => this.#useSym(v, node));
  }

  // -- functions and scopes ---------------------------------------------------------------------

  function(f: Function, top: boolean): void {
    for (const p of f.params) {
      if ((p as AnyVar).kind === "relax.DataflowVar") {
        this.#r.add(`parameter "${p.name}" is a dataflow variable`, p);
      }
      this.#bind(p, p);
      this.#defineSyms(p.structInfo);
    }
    if (f.body.kind === "relax.SeqExpr") this.#seq(f.body, true);
    else {
      this.#r.add(`the function body must be a SeqExpr, got ${f.body.kind}`, f.body);
      this.#expr(f.body);
    }
    this.#useSymsIn(f.retStructInfo, f);
    if (!top) { for (const p of f.params) this.#scope.delete(p); }
  }

  #seq(s: SeqExpr, functionBody: boolean): void {
    const local: AnyVar[] = [];
    for (const block of s.blocks) {
      const dataflow = block.kind === "DataflowBlock";
      const blockLocal: AnyVar[] = [];
      for (const b of block.bindings) {
        this.#binding(b, dataflow);
        (dataflow && b.var.kind === "relax.DataflowVar" ? blockLocal : local).push(b.var);
      }
      for (const v of blockLocal) {
        this.#scope.delete(v);
        this.#expired.add(v);
      }
    }
    if (functionBody && s.body.kind === "relax.DataflowVar") {
      this.#r.add(
        `the function returns dataflow variable "${s.body.name}", which is local to its dataflow block`,
        s.body,
      );
    } else {
      this.#expr(s.body);
    }
    for (const v of local) this.#scope.delete(v);
  }

  #binding(b: Binding, dataflow: boolean): void {
    const v = b.var;
    if (v.kind === "relax.DataflowVar" && !dataflow) {
      this.#r.add(`dataflow variable "${v.name}" is bound outside a dataflow block`, b);
    }
    if (b.kind === "VarBinding" && b.value.kind === "relax.Function") {
      this.#bind(v, b); // a local function may call itself
      this.#expr(b.value);
    } else {
      this.#expr(b.value);
      if (b.kind === "MatchCast") this.#defineSyms(b.structInfo);
      this.#bind(v, b);
    }
    this.#useSymsIn(v.structInfo, b);
    if (b.kind === "VarBinding" && structInfoConflicts(v.structInfo, b.value.structInfo)) {
      this.#r.add(
        `binding "${v.name}" declares ${compactStructInfo(v.structInfo)} but its value has ${
          compactStructInfo(b.value.structInfo)
        }`,
        b,
      );
    }
  }

  #expr(e: Expr): void {
    switch (e.kind) {
      case "relax.Var":
      case "relax.DataflowVar":
        return this.#use(e);
      case "relax.Constant":
      case "relax.StringImm":
      case "relax.DataTypeImm":
      case "relax.Op":
      case "relax.ExternFunc":
        return;
      case "GlobalVar":
        if (this.#mod && !this.#mod.functions.has(e.name)) {
          this.#r.add(`GlobalVar "${e.name}" does not name a function of the module`, e);
        }
        return;
      case "relax.Tuple":
        for (const f of e.fields) this.#expr(f);
        return;
      case "relax.TupleGetItem":
        return this.#expr(e.tuple);
      case "relax.ShapeExpr":
        for (const v of e.values) forEachFreeVar(v, (x) => this.#useSym(x, e));
        return;
      case "relax.PrimValue":
        return forEachFreeVar(e.value, (x) => this.#useSym(x, e));
      case "relax.Call":
        this.#expr(e.op);
        for (const a of e.args) this.#expr(a);
        for (const s of e.sinfoArgs) this.#useSymsIn(s, e);
        return;
      case "relax.If":
        this.#expr(e.cond);
        this.#expr(e.thenBranch);
        this.#expr(e.elseBranch);
        return;
      case "relax.SeqExpr":
        return this.#seq(e, false);
      case "relax.Function":
        return this.function(e, false);
      default:
        e satisfies never;
    }
  }
}

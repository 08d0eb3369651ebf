/**
 * Exhaustive tables of node kinds, to dispatch on a node of unknown type.
 *
 * @module
 */

import type { PrimExpr } from "../expr.ts";
import type { Expr } from "../relax/expr.ts";
import type { Stmt } from "../tir/stmt.ts";

/** Every PrimExpr kind. */
export const primExprKinds: { readonly [K in PrimExpr["kind"]]: true } = {
  Var: true,
  IntImm: true,
  FloatImm: true,
  StringImm: true,
  Add: true,
  Sub: true,
  Mul: true,
  Div: true,
  Mod: true,
  FloorDiv: true,
  FloorMod: true,
  Min: true,
  Max: true,
  EQ: true,
  NE: true,
  LT: true,
  LE: true,
  GT: true,
  GE: true,
  And: true,
  Or: true,
  Not: true,
  Select: true,
  Cast: true,
  Let: true,
  Call: true,
  BufferLoad: true,
  Ramp: true,
  Broadcast: true,
};

/** Every TIR statement kind. */
export const stmtKinds: { readonly [K in Stmt["kind"]]: true } = {
  For: true,
  SBlock: true,
  SBlockRealize: true,
  BufferStore: true,
  SeqStmt: true,
  IfThenElse: true,
  LetStmt: true,
  Evaluate: true,
  AllocBuffer: true,
  DeclBuffer: true,
  AssertStmt: true,
  While: true,
};

/** Every Relax expression kind. */
export const relaxExprKinds: { readonly [K in Expr["kind"]]: true } = {
  "relax.Var": true,
  "relax.DataflowVar": true,
  "relax.Constant": true,
  "relax.Tuple": true,
  "relax.TupleGetItem": true,
  "relax.ShapeExpr": true,
  "relax.PrimValue": true,
  "relax.StringImm": true,
  "relax.DataTypeImm": true,
  "relax.Op": true,
  GlobalVar: true,
  "relax.ExternFunc": true,
  "relax.Call": true,
  "relax.If": true,
  "relax.SeqExpr": true,
  "relax.Function": true,
};

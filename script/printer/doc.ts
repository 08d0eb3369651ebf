/**
 * The document tree the TVMScript printer builds before rendering text: a small Python AST
 * (expressions and statements), as in TVM's `script/printer/doc.h`. The printer turns IR nodes
 * into docs; {@link ./doc_printer.ts} turns docs into Python source.
 *
 * @module
 */

/** A literal value: `None`, a bool, an int, a float or a string. */
export type Literal =
  | { readonly t: "none" }
  | { readonly t: "bool"; readonly v: boolean }
  | { readonly t: "int"; readonly v: number }
  | { readonly t: "float"; readonly v: number }
  | { readonly t: "str"; readonly v: string };

/** Python operators the printer emits, with Python's precedence. */
export type OpKind =
  | "USub"
  | "Not"
  | "Add"
  | "Sub"
  | "Mult"
  | "Div"
  | "FloorDiv"
  | "Mod"
  | "Lt"
  | "LtE"
  | "Eq"
  | "NotEq"
  | "Gt"
  | "GtE"
  | "And"
  | "Or";

/** A `start:stop:step` slice inside an index. */
export interface SliceDoc {
  readonly k: "slice";
  readonly start: ExprDoc | undefined;
  readonly stop: ExprDoc | undefined;
  readonly step: ExprDoc | undefined;
}

/** An expression. */
export type ExprDoc =
  | { readonly k: "id"; readonly name: string }
  | { readonly k: "lit"; readonly value: Literal }
  | { readonly k: "attr"; readonly value: ExprDoc; readonly name: string }
  | {
    readonly k: "index";
    readonly value: ExprDoc;
    readonly indices: readonly (ExprDoc | SliceDoc)[];
  }
  | {
    readonly k: "call";
    readonly callee: ExprDoc;
    readonly args: readonly ExprDoc[];
    readonly kwargs: readonly (readonly [string, ExprDoc])[];
  }
  | { readonly k: "op"; readonly op: OpKind; readonly operands: readonly ExprDoc[] }
  | { readonly k: "tuple"; readonly elements: readonly ExprDoc[] }
  | { readonly k: "list"; readonly elements: readonly ExprDoc[] }
  | { readonly k: "dict"; readonly keys: readonly ExprDoc[]; readonly values: readonly ExprDoc[] };

/** `lhs: ann = rhs` (either of `ann` and `rhs` may be absent). */
export interface AssignDoc {
  readonly k: "assign";
  readonly lhs: ExprDoc;
  readonly rhs: ExprDoc | undefined;
  readonly ann: ExprDoc | undefined;
}

/** A statement. */
export type StmtDoc =
  | AssignDoc
  | {
    readonly k: "if";
    readonly cond: ExprDoc;
    readonly then: readonly StmtDoc[];
    readonly else: readonly StmtDoc[];
  }
  | { readonly k: "while"; readonly cond: ExprDoc; readonly body: readonly StmtDoc[] }
  | {
    readonly k: "for";
    readonly lhs: ExprDoc;
    readonly rhs: ExprDoc;
    readonly body: readonly StmtDoc[];
  }
  | {
    readonly k: "scope";
    readonly lhs: ExprDoc | undefined;
    readonly rhs: ExprDoc;
    readonly body: readonly StmtDoc[];
  }
  | { readonly k: "expr"; readonly expr: ExprDoc }
  | { readonly k: "assert"; readonly test: ExprDoc; readonly msg: ExprDoc | undefined }
  | { readonly k: "return"; readonly value: ExprDoc }
  | {
    readonly k: "function";
    readonly name: string;
    readonly args: readonly AssignDoc[];
    readonly decorators: readonly ExprDoc[];
    readonly ret: ExprDoc | undefined;
    readonly body: readonly StmtDoc[];
  }
  | {
    readonly k: "class";
    readonly name: string;
    readonly decorators: readonly ExprDoc[];
    readonly body: readonly StmtDoc[];
  }
  | { readonly k: "comment"; readonly text: string }
  | { readonly k: "raw"; readonly text: string }
  | { readonly k: "block"; readonly stmts: readonly StmtDoc[] };

/** Any document. */
export type Doc = ExprDoc | StmtDoc;

const EXPR_KINDS: ReadonlySet<string> = new Set([
  "id",
  "lit",
  "attr",
  "index",
  "call",
  "op",
  "tuple",
  "list",
  "dict",
]);

/** Whether a doc is an expression. */
export function isExprDoc(d: Doc): d is ExprDoc {
  return EXPR_KINDS.has(d.k);
}

/** An identifier. */
export function id(name: string): ExprDoc {
  return { k: "id", name };
}

/** `value.name` */
export function attr(value: ExprDoc, name: string): ExprDoc {
  return { k: "attr", value, name };
}

/** `callee(args..., key=value...)` */
export function call(
  callee: ExprDoc,
  args: readonly ExprDoc[] = [],
  kwargs: readonly (readonly [string, ExprDoc])[] = [],
): ExprDoc {
  return { k: "call", callee, args, kwargs };
}

/** `value[indices...]` */
export function index(value: ExprDoc, indices: readonly (ExprDoc | SliceDoc)[]): ExprDoc {
  return { k: "index", value, indices };
}

/** A `start:stop:step` slice. */
export function slice(start?: ExprDoc, stop?: ExprDoc, step?: ExprDoc): SliceDoc {
  return { k: "slice", start, stop, step };
}

/** A Python operation. */
export function op(kind: OpKind, ...operands: ExprDoc[]): ExprDoc {
  return { k: "op", op: kind, operands };
}

/** `(a, b)` */
export function tuple(elements: readonly ExprDoc[]): ExprDoc {
  return { k: "tuple", elements };
}

/** `[a, b]` */
export function list(elements: readonly ExprDoc[]): ExprDoc {
  return { k: "list", elements };
}

/** `{k: v}` */
export function dict(keys: readonly ExprDoc[], values: readonly ExprDoc[]): ExprDoc {
  return { k: "dict", keys, values };
}

/** A string literal. */
export function str(v: string): ExprDoc {
  return { k: "lit", value: { t: "str", v } };
}

/** An integer literal. */
export function int(v: number): ExprDoc {
  return { k: "lit", value: { t: "int", v } };
}

/** A float literal. */
export function float(v: number): ExprDoc {
  return { k: "lit", value: { t: "float", v } };
}

/** `True` or `False`. */
export function bool(v: boolean): ExprDoc {
  return { k: "lit", value: { t: "bool", v } };
}

/** `None` */
export const NONE: ExprDoc = { k: "lit", value: { t: "none" } };

/** `lhs: ann = rhs` */
export function assign(lhs: ExprDoc, rhs: ExprDoc | undefined, ann?: ExprDoc): AssignDoc {
  return { k: "assign", lhs, rhs, ann };
}

/** An expression statement. */
export function exprStmt(expr: ExprDoc): StmtDoc {
  return { k: "expr", expr };
}

/** `with rhs as lhs:` */
export function scope(lhs: ExprDoc | undefined, rhs: ExprDoc, body: readonly StmtDoc[]): StmtDoc {
  return { k: "scope", lhs, rhs, body };
}

/** A comment (an empty text prints an empty line). */
export function comment(text: string): StmtDoc {
  return { k: "comment", text };
}

/** Statements spliced into the enclosing block. */
export function block(stmts: readonly StmtDoc[]): StmtDoc {
  return { k: "block", stmts };
}

/**
 * The syntax tree of the Python subset TVMScript uses. Every node carries its 1-based
 * `line`/`col`, so later stages can report errors where they happen.
 *
 * @module
 */

/** A located node. */
export interface Located {
  readonly line: number;
  readonly col: number;
}

/** A name: `x`. */
export interface NameNode extends Located {
  readonly kind: "Name";
  readonly id: string;
}

/** A literal constant: numbers, strings, `True`/`False`, `None`. */
export interface ConstantNode extends Located {
  readonly kind: "Constant";
  readonly value: number | string | boolean | null;
  /** Whether a number was written as a float (`1.0`, `1e-5`). */
  readonly isFloat: boolean;
}

/** `value.attr` */
export interface AttributeNode extends Located {
  readonly kind: "Attribute";
  readonly value: ExprNode;
  readonly attr: string;
}

/** A keyword argument `name=value`. */
export interface Keyword extends Located {
  readonly name: string;
  readonly value: ExprNode;
}

/** `func(args, key=value)` */
export interface CallNode extends Located {
  readonly kind: "Call";
  readonly func: ExprNode;
  readonly args: readonly ExprNode[];
  readonly keywords: readonly Keyword[];
}

/** `lower:upper:step` inside a subscript. */
export interface SliceNode extends Located {
  readonly kind: "Slice";
  readonly lower: ExprNode | undefined;
  readonly upper: ExprNode | undefined;
  readonly step: ExprNode | undefined;
}

/** `value[i, j:k]` */
export interface SubscriptNode extends Located {
  readonly kind: "Subscript";
  readonly value: ExprNode;
  readonly indices: readonly (ExprNode | SliceNode)[];
}

/** `(a, b)` or `a, b` */
export interface TupleNode extends Located {
  readonly kind: "Tuple";
  readonly elts: readonly ExprNode[];
}

/** `[a, b]` */
export interface ListNode extends Located {
  readonly kind: "List";
  readonly elts: readonly ExprNode[];
}

/** `{k: v}` */
export interface DictNode extends Located {
  readonly kind: "Dict";
  readonly keys: readonly ExprNode[];
  readonly values: readonly ExprNode[];
}

/** Binary arithmetic operators. */
export type BinOpKind =
  | "+"
  | "-"
  | "*"
  | "/"
  | "//"
  | "%"
  | "**"
  | "@"
  | "&"
  | "|"
  | "^"
  | "<<"
  | ">>";

/** `a + b` and friends. */
export interface BinOpNode extends Located {
  readonly kind: "BinOp";
  readonly op: BinOpKind;
  readonly left: ExprNode;
  readonly right: ExprNode;
}

/** `-a`, `+a`, `~a`, `not a` */
export interface UnaryOpNode extends Located {
  readonly kind: "UnaryOp";
  readonly op: "-" | "+" | "~" | "not";
  readonly operand: ExprNode;
}

/** `a and b and c` */
export interface BoolOpNode extends Located {
  readonly kind: "BoolOp";
  readonly op: "and" | "or";
  readonly values: readonly ExprNode[];
}

/** Comparison operators. */
export type CmpOpKind = "<" | "<=" | ">" | ">=" | "==" | "!=" | "in" | "not in" | "is" | "is not";

/** `a < b <= c` */
export interface CompareNode extends Located {
  readonly kind: "Compare";
  readonly left: ExprNode;
  readonly ops: readonly CmpOpKind[];
  readonly comparators: readonly ExprNode[];
}

/** `a if cond else b` */
export interface IfExpNode extends Located {
  readonly kind: "IfExp";
  readonly test: ExprNode;
  readonly body: ExprNode;
  readonly orelse: ExprNode;
}

/** An expression. */
export type ExprNode =
  | NameNode
  | ConstantNode
  | AttributeNode
  | CallNode
  | SubscriptNode
  | TupleNode
  | ListNode
  | DictNode
  | BinOpNode
  | UnaryOpNode
  | BoolOpNode
  | CompareNode
  | IfExpNode;

/** A function parameter `name: annotation`. */
export interface Param extends Located {
  readonly name: string;
  readonly annotation: ExprNode;
}

/** `@decorators def name(params) -> returns: body` */
export interface FunctionDefNode extends Located {
  readonly kind: "FunctionDef";
  readonly name: string;
  readonly params: readonly Param[];
  readonly returns: ExprNode | undefined;
  readonly decorators: readonly ExprNode[];
  readonly body: readonly StmtNode[];
}

/** `@decorators class name: body` */
export interface ClassDefNode extends Located {
  readonly kind: "ClassDef";
  readonly name: string;
  readonly decorators: readonly ExprNode[];
  readonly body: readonly StmtNode[];
}

/** `targets = value` (a single target; chained assignments are rejected by the parser). */
export interface AssignNode extends Located {
  readonly kind: "Assign";
  readonly target: ExprNode;
  readonly value: ExprNode;
}

/** `target: annotation = value` (value may be absent). */
export interface AnnAssignNode extends Located {
  readonly kind: "AnnAssign";
  readonly target: ExprNode;
  readonly annotation: ExprNode;
  readonly value: ExprNode | undefined;
}

/** `target op= value` */
export interface AugAssignNode extends Located {
  readonly kind: "AugAssign";
  readonly target: ExprNode;
  readonly op: BinOpKind;
  readonly value: ExprNode;
}

/** An expression used as a statement. */
export interface ExprStmtNode extends Located {
  readonly kind: "ExprStmt";
  readonly value: ExprNode;
}

/** `return value` */
export interface ReturnNode extends Located {
  readonly kind: "Return";
  readonly value: ExprNode | undefined;
}

/** `if test: body else: orelse` (`elif` nests another If in `orelse`). */
export interface IfNode extends Located {
  readonly kind: "If";
  readonly test: ExprNode;
  readonly body: readonly StmtNode[];
  readonly orelse: readonly StmtNode[] | undefined;
}

/** `for target in iter: body` */
export interface ForNode extends Located {
  readonly kind: "For";
  readonly target: ExprNode;
  readonly iter: ExprNode;
  readonly body: readonly StmtNode[];
}

/** `while test: body` */
export interface WhileNode extends Located {
  readonly kind: "While";
  readonly test: ExprNode;
  readonly body: readonly StmtNode[];
}

/** `with context as target: body` (one item). */
export interface WithNode extends Located {
  readonly kind: "With";
  readonly context: ExprNode;
  readonly target: ExprNode | undefined;
  readonly body: readonly StmtNode[];
}

/** `assert test, msg` */
export interface AssertNode extends Located {
  readonly kind: "Assert";
  readonly test: ExprNode;
  readonly msg: ExprNode | undefined;
}

/** `pass` */
export interface PassNode extends Located {
  readonly kind: "Pass";
}

/** `import ...` / `from ... import ...` (ignored). */
export interface ImportNode extends Located {
  readonly kind: "Import";
}

/** A statement. */
export type StmtNode =
  | FunctionDefNode
  | ClassDefNode
  | AssignNode
  | AnnAssignNode
  | AugAssignNode
  | ExprStmtNode
  | ReturnNode
  | IfNode
  | ForNode
  | WhileNode
  | WithNode
  | AssertNode
  | PassNode
  | ImportNode;

/** The dotted name of a `Name`/`Attribute` chain (`"T.axis.remap"`), or `undefined`. */
export function dottedName(e: ExprNode): string | undefined {
  if (e.kind === "Name") return e.id;
  if (e.kind === "Attribute") {
    const base = dottedName(e.value);
    return base === undefined ? undefined : `${base}.${e.attr}`;
  }
  return undefined;
}

/** A short description of an expression's syntax, for error messages. */
export function describeExpr(e: ExprNode): string {
  switch (e.kind) {
    case "Name":
      return `name "${e.id}"`;
    case "Constant":
      if (typeof e.value === "string") return `string ${JSON.stringify(e.value)}`;
      if (e.value === null) return "None";
      if (typeof e.value === "boolean") return e.value ? "True" : "False";
      return `number ${e.value}`;
    case "Attribute": {
      const d = dottedName(e);
      return d ? `"${d}"` : "an attribute";
    }
    case "Call": {
      const d = dottedName(e.func);
      return d ? `a call of "${d}"` : "a call";
    }
    case "Subscript":
      return "a subscript";
    case "Tuple":
      return "a tuple";
    case "List":
      return "a list";
    case "Dict":
      return "a dict";
    case "BinOp":
    case "UnaryOp":
    case "BoolOp":
    case "Compare":
    case "IfExp":
      return "an expression";
    default:
      e satisfies never;
      return "an expression";
  }
}

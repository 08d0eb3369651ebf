/**
 * The expression half of the TVMScript syntax parser: token helpers and Python's expression
 * grammar and precedence (`or`, `and`, `not`, comparisons, `| ^ &`, shifts, `+ -`, `* / // %`,
 * unary operators, `**`, calls, attributes, subscripts with slices, literals, tuples, lists
 * and dicts).
 *
 * @module
 */

import type { BinOpKind, CmpOpKind, ExprNode, Keyword, Located, SliceNode } from "./ast.ts";
import type { SourceText } from "./errors.ts";
import { type Token, tokenize } from "./lexer.ts";

const MAX_DEPTH = 150;

/** Python keywords (not usable as names). */
export const KEYWORDS = new Set([
  "and",
  "as",
  "assert",
  "break",
  "class",
  "continue",
  "def",
  "del",
  "elif",
  "else",
  "except",
  "finally",
  "for",
  "from",
  "global",
  "if",
  "import",
  "in",
  "is",
  "lambda",
  "nonlocal",
  "not",
  "or",
  "pass",
  "raise",
  "return",
  "try",
  "while",
  "with",
  "yield",
  "None",
  "True",
  "False",
]);

/** Parses a single expression (e.g. the text of a quoted shape dimension `"n * 2"`). */
export function parseExpressionSyntax(src: SourceText): ExprNode {
  return new ExprParser(src, tokenize(src)).parseWholeExpression();
}

/** Token helpers and expression parsing; the statement parser extends it. */
export class ExprParser {
  protected i = 0;
  protected depth = 0;

  constructor(protected readonly src: SourceText, protected readonly toks: readonly Token[]) {}

  // ------------------------------------------------------------------ token helpers

  protected cur(): Token {
    return this.toks[this.i]!;
  }

  protected peek(k = 1): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  protected next(): Token {
    const t = this.cur();
    if (t.kind !== "eof") this.i++;
    return t;
  }

  protected isOp(v: string, t: Token = this.cur()): boolean {
    return t.kind === "op" && t.value === v;
  }

  protected isKw(v: string, t: Token = this.cur()): boolean {
    return t.kind === "name" && t.value === v;
  }

  protected eatOp(v: string): boolean {
    if (this.isOp(v)) {
      this.i++;
      return true;
    }
    return false;
  }

  protected eatKw(v: string): boolean {
    if (this.isKw(v)) {
      this.i++;
      return true;
    }
    return false;
  }

  protected fail(reason: string, at: Located = this.cur()): never {
    throw this.src.error(reason, at);
  }

  protected describe(t: Token): string {
    switch (t.kind) {
      case "name":
        return `"${t.value}"`;
      case "int":
      case "float":
        return `number ${t.value}`;
      case "string":
        return "a string";
      case "op":
        return `"${t.value}"`;
      case "newline":
        return "end of line";
      case "indent":
        return "an indented block";
      case "dedent":
        return "end of block";
      case "eof":
        return "end of text";
    }
  }

  protected expectOp(v: string, context = ""): Token {
    if (!this.isOp(v)) this.fail(`Expected "${v}"${context}, got ${this.describe(this.cur())}`);
    return this.next();
  }

  protected expectName(context: string): Token {
    const t = this.cur();
    if (t.kind !== "name" || KEYWORDS.has(t.value)) {
      this.fail(`Expected a name ${context}, got ${this.describe(t)}`);
    }
    return this.next();
  }

  protected enter(at: Located): void {
    if (++this.depth > MAX_DEPTH) this.fail("Program is nested too deeply", at);
  }

  protected leave(): void {
    this.depth--;
  }

  // ------------------------------------------------------------------ statements
  protected parseExprList(): ExprNode {
    const first = this.parseExpr();
    if (!this.isOp(",")) return first;
    const elts = [first];
    while (this.eatOp(",")) {
      if (this.atExprEnd()) break;
      elts.push(this.parseExpr());
    }
    return { kind: "Tuple", elts, line: first.line, col: first.col };
  }

  protected atExprEnd(): boolean {
    const t = this.cur();
    return t.kind === "newline" || t.kind === "eof" ||
      (t.kind === "op" && ["=", ")", "]", "}", ":", ";"].includes(t.value));
  }

  parseWholeExpression(): ExprNode {
    while (this.cur().kind === "newline") this.next();
    const e = this.parseExpr();
    while (this.cur().kind === "newline" || this.cur().kind === "dedent") this.next();
    if (this.cur().kind !== "eof") {
      this.fail(`Expected end of expression, got ${this.describe(this.cur())}`);
    }
    return e;
  }

  parseExpr(): ExprNode {
    this.enter(this.cur());
    try {
      const body = this.parseOr();
      if (this.isKw("if")) {
        this.next();
        const test = this.parseOr();
        if (!this.eatKw("else")) {
          this.fail(
            `Expected "else" in the conditional expression, got ${this.describe(this.cur())}`,
          );
        }
        const orelse = this.parseExpr();
        return { kind: "IfExp", test, body, orelse, line: body.line, col: body.col };
      }
      return body;
    } finally {
      this.leave();
    }
  }

  protected parseOr(): ExprNode {
    const first = this.parseAnd();
    if (!this.isKw("or")) return first;
    const values = [first];
    while (this.eatKw("or")) values.push(this.parseAnd());
    return { kind: "BoolOp", op: "or", values, line: first.line, col: first.col };
  }

  protected parseAnd(): ExprNode {
    const first = this.parseNot();
    if (!this.isKw("and")) return first;
    const values = [first];
    while (this.eatKw("and")) values.push(this.parseNot());
    return { kind: "BoolOp", op: "and", values, line: first.line, col: first.col };
  }

  protected parseNot(): ExprNode {
    if (this.isKw("not")) {
      const t = this.next();
      this.enter(t);
      try {
        return { kind: "UnaryOp", op: "not", operand: this.parseNot(), line: t.line, col: t.col };
      } finally {
        this.leave();
      }
    }
    return this.parseComparison();
  }

  protected parseComparison(): ExprNode {
    const left = this.parseBinary(0);
    const ops: CmpOpKind[] = [];
    const comparators: ExprNode[] = [];
    for (;;) {
      const t = this.cur();
      let op: CmpOpKind | undefined;
      if (t.kind === "op" && ["<", "<=", ">", ">=", "==", "!="].includes(t.value)) {
        op = t.value as CmpOpKind;
        this.next();
      } else if (this.isKw("in")) {
        op = "in";
        this.next();
      } else if (this.isKw("not") && this.isKw("in", this.peek())) {
        op = "not in";
        this.next();
        this.next();
      } else if (this.isKw("is")) {
        this.next();
        op = this.eatKw("not") ? "is not" : "is";
      }
      if (!op) break;
      ops.push(op);
      comparators.push(this.parseBinary(0));
    }
    if (ops.length === 0) return left;
    return { kind: "Compare", left, ops, comparators, line: left.line, col: left.col };
  }

  protected static readonly LEVELS: readonly (readonly string[])[] = [
    ["|"],
    ["^"],
    ["&"],
    ["<<", ">>"],
    ["+", "-"],
    ["*", "/", "//", "%", "@"],
  ];

  protected parseBinary(level: number): ExprNode {
    if (level >= ExprParser.LEVELS.length) return this.parseUnary();
    let left = this.parseBinary(level + 1);
    const ops = ExprParser.LEVELS[level]!;
    while (this.cur().kind === "op" && ops.includes(this.cur().value)) {
      const op = this.next().value as BinOpKind;
      const right = this.parseBinary(level + 1);
      left = { kind: "BinOp", op, left, right, line: left.line, col: left.col };
    }
    return left;
  }

  protected parseUnary(): ExprNode {
    const t = this.cur();
    if (t.kind === "op" && (t.value === "-" || t.value === "+" || t.value === "~")) {
      this.next();
      this.enter(t);
      try {
        const operand = this.parseUnary();
        return {
          kind: "UnaryOp",
          op: t.value as "-" | "+" | "~",
          operand,
          line: t.line,
          col: t.col,
        };
      } finally {
        this.leave();
      }
    }
    return this.parsePower();
  }

  protected parsePower(): ExprNode {
    const base = this.parsePrimary();
    if (this.isOp("**")) {
      this.next();
      const exp = this.parseUnary();
      return { kind: "BinOp", op: "**", left: base, right: exp, line: base.line, col: base.col };
    }
    return base;
  }

  protected parsePrimary(): ExprNode {
    let e = this.parseAtom();
    for (;;) {
      if (this.isOp(".")) {
        this.next();
        const n = this.expectName('after "."');
        e = { kind: "Attribute", value: e, attr: n.value, line: e.line, col: e.col };
      } else if (this.isOp("(")) {
        const open = this.next();
        this.enter(open);
        const args: ExprNode[] = [];
        const keywords: Keyword[] = [];
        while (!this.isOp(")")) {
          if (this.isOp("*") || this.isOp("**")) this.fail("Star arguments are not supported");
          if (this.cur().kind === "name" && this.isOp("=", this.peek())) {
            const k = this.next();
            this.next();
            if (keywords.some((x) => x.name === k.value)) {
              this.fail(`Keyword argument "${k.value}" repeated`, k);
            }
            keywords.push({ name: k.value, value: this.parseExpr(), line: k.line, col: k.col });
          } else {
            if (keywords.length > 0) this.fail("Positional argument follows keyword argument");
            args.push(this.parseExpr());
          }
          if (!this.eatOp(",")) break;
        }
        this.expectOp(")", " to close the call");
        this.leave();
        e = { kind: "Call", func: e, args, keywords, line: e.line, col: e.col };
      } else if (this.isOp("[")) {
        const open = this.next();
        this.enter(open);
        const indices: (ExprNode | SliceNode)[] = [];
        while (!this.isOp("]")) {
          indices.push(this.parseSubscriptItem());
          if (!this.eatOp(",")) break;
        }
        if (indices.length === 0) this.fail("Expected an index", this.cur());
        this.expectOp("]", " to close the subscript");
        this.leave();
        e = { kind: "Subscript", value: e, indices, line: e.line, col: e.col };
      } else {
        return e;
      }
    }
  }

  protected parseSubscriptItem(): ExprNode | SliceNode {
    const t = this.cur();
    const lower = this.isOp(":") ? undefined : this.parseExpr();
    if (!this.isOp(":")) return lower!;
    this.next();
    const upper = this.isOp(":") || this.isOp(",") || this.isOp("]") ? undefined : this.parseExpr();
    let step: ExprNode | undefined;
    if (this.eatOp(":")) step = this.isOp(",") || this.isOp("]") ? undefined : this.parseExpr();
    return { kind: "Slice", lower, upper, step, line: t.line, col: t.col };
  }

  protected parseAtom(): ExprNode {
    const t = this.cur();
    const at = { line: t.line, col: t.col };
    switch (t.kind) {
      case "int":
      case "float":
        this.next();
        return { kind: "Constant", value: t.num, isFloat: t.kind === "float", ...at };
      case "string": {
        let s = this.next().value;
        while (this.cur().kind === "string") s += this.next().value;
        return { kind: "Constant", value: s, isFloat: false, ...at };
      }
      case "name": {
        if (t.value === "None" || t.value === "True" || t.value === "False") {
          this.next();
          const value = t.value === "None" ? null : t.value === "True";
          return { kind: "Constant", value, isFloat: false, ...at };
        }
        if (KEYWORDS.has(t.value)) this.fail(`Expected an expression, got "${t.value}"`);
        this.next();
        return { kind: "Name", id: t.value, ...at };
      }
      case "op":
        if (t.value === "(") return this.parseParen();
        if (t.value === "[") {
          this.next();
          this.enter(t);
          const elts = this.parseSequence("]");
          this.leave();
          return { kind: "List", elts, ...at };
        }
        if (t.value === "{") return this.parseDict();
        break;
      default:
        break;
    }
    return this.fail(`Expected an expression, got ${this.describe(t)}`);
  }

  protected parseSequence(close: string): ExprNode[] {
    const elts: ExprNode[] = [];
    while (!this.isOp(close)) {
      elts.push(this.parseExpr());
      if (!this.eatOp(",")) break;
    }
    this.expectOp(close, ` to close the ${close === "]" ? "list" : "tuple"}`);
    return elts;
  }

  protected parseParen(): ExprNode {
    const t = this.next();
    this.enter(t);
    try {
      if (this.eatOp(")")) return { kind: "Tuple", elts: [], line: t.line, col: t.col };
      const first = this.parseExpr();
      if (this.eatOp(")")) return first;
      if (!this.isOp(",")) this.fail(`Expected ")" or ",", got ${this.describe(this.cur())}`);
      this.next();
      const rest = this.parseSequence(")");
      return { kind: "Tuple", elts: [first, ...rest], line: t.line, col: t.col };
    } finally {
      this.leave();
    }
  }

  protected parseDict(): ExprNode {
    const t = this.next();
    this.enter(t);
    const keys: ExprNode[] = [];
    const values: ExprNode[] = [];
    while (!this.isOp("}")) {
      keys.push(this.parseExpr());
      this.expectOp(":", " after a dict key");
      values.push(this.parseExpr());
      if (!this.eatOp(",")) break;
    }
    this.expectOp("}", " to close the dict");
    this.leave();
    return { kind: "Dict", keys, values, line: t.line, col: t.col };
  }
}

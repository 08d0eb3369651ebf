/**
 * A recursive-descent parser from tokens to the syntax tree of {@link ./ast.ts}, with Python's
 * grammar and precedence for the subset TVMScript uses.
 *
 * @module
 */

import type { BinOpKind, ExprNode, FunctionDefNode, Located, Param, StmtNode } from "./ast.ts";
import type { SourceText } from "./errors.ts";
import { tokenize } from "./lexer.ts";
import { ExprParser } from "./syntax_expr.ts";

const AUG_OPS: { readonly [op: string]: BinOpKind } = {
  "+=": "+",
  "-=": "-",
  "*=": "*",
  "/=": "/",
  "//=": "//",
  "%=": "%",
  "**=": "**",
  "@=": "@",
  "&=": "&",
  "|=": "|",
  "^=": "^",
  "<<=": "<<",
  ">>=": ">>",
};

/** Parses TVMScript text into a list of top-level statements. */
export function parseModuleSyntax(src: SourceText): StmtNode[] {
  return new SyntaxParser(src, tokenize(src)).parseFile();
}

export { parseExpressionSyntax } from "./syntax_expr.ts";

class SyntaxParser extends ExprParser {
  parseFile(): StmtNode[] {
    const out: StmtNode[] = [];
    while (this.cur().kind === "newline") this.next();
    while (this.cur().kind !== "eof") {
      if (this.cur().kind === "indent") this.fail("Unexpected indent");
      out.push(...this.parseStatement());
      while (this.cur().kind === "newline") this.next();
    }
    return out;
  }

  private parseBlock(context: string): StmtNode[] {
    this.expectOp(":", context);
    if (this.cur().kind !== "newline") {
      // a simple statement on the same line: `if x: pass`
      return this.parseSimpleLine();
    }
    this.next();
    if (this.cur().kind !== "indent") this.fail(`Expected an indented block${context}`);
    this.next();
    const out: StmtNode[] = [];
    while (this.cur().kind !== "dedent" && this.cur().kind !== "eof") {
      out.push(...this.parseStatement());
    }
    if (this.cur().kind === "dedent") this.next();
    return out;
  }

  private parseStatement(): StmtNode[] {
    const t = this.cur();
    if (t.kind === "indent") this.fail("Unexpected indent");
    if (this.isOp("@")) return [this.parseDecorated()];
    if (t.kind === "name") {
      switch (t.value) {
        case "def":
          return [this.parseFunctionDef([], t)];
        case "class":
          return [this.parseClassDef([], t)];
        case "if":
          return [this.parseIf()];
        case "for":
          return [this.parseFor()];
        case "while":
          return [this.parseWhile()];
        case "with":
          return [this.parseWith()];
        case "try":
        case "lambda":
        case "del":
        case "global":
        case "nonlocal":
        case "raise":
        case "yield":
        case "break":
        case "continue":
        case "async":
          this.fail(`"${t.value}" is not supported in TVMScript`);
      }
    }
    return this.parseSimpleLine();
  }

  private parseSimpleLine(): StmtNode[] {
    const out: StmtNode[] = [this.parseSimpleStatement()];
    while (this.eatOp(";")) {
      if (this.cur().kind === "newline" || this.cur().kind === "eof") break;
      out.push(this.parseSimpleStatement());
    }
    if (this.cur().kind !== "newline" && this.cur().kind !== "eof") {
      this.fail(`Expected end of line, got ${this.describe(this.cur())}`);
    }
    if (this.cur().kind === "newline") this.next();
    return out;
  }

  private parseSimpleStatement(): StmtNode {
    const t = this.cur();
    const at = { line: t.line, col: t.col };
    if (t.kind === "name") {
      switch (t.value) {
        case "pass":
          this.next();
          return { kind: "Pass", ...at };
        case "return": {
          this.next();
          if (this.cur().kind === "newline" || this.isOp(";") || this.cur().kind === "eof") {
            return { kind: "Return", value: undefined, ...at };
          }
          return { kind: "Return", value: this.parseExprList(), ...at };
        }
        case "assert": {
          this.next();
          const test = this.parseExpr();
          const msg = this.eatOp(",") ? this.parseExpr() : undefined;
          return { kind: "Assert", test, msg, ...at };
        }
        case "import":
        case "from": {
          while (this.cur().kind !== "newline" && this.cur().kind !== "eof") this.next();
          return { kind: "Import", ...at };
        }
        case "break":
        case "continue":
        case "raise":
        case "del":
        case "global":
        case "nonlocal":
        case "yield":
          this.fail(`"${t.value}" is not supported in TVMScript`);
      }
    }
    const first = this.parseExprList();
    if (this.isOp(":")) {
      this.next();
      const annotation = this.parseExpr();
      const value = this.eatOp("=") ? this.parseExprList() : undefined;
      return { kind: "AnnAssign", target: first, annotation, value, ...at };
    }
    if (this.isOp("=")) {
      this.next();
      const value = this.parseExprList();
      if (this.isOp("=")) this.fail('Chained assignments like "a = b = c" are not supported');
      return { kind: "Assign", target: first, value, ...at };
    }
    const aug = this.cur().kind === "op" ? AUG_OPS[this.cur().value] : undefined;
    if (aug) {
      this.next();
      return { kind: "AugAssign", target: first, op: aug, value: this.parseExpr(), ...at };
    }
    return { kind: "ExprStmt", value: first, ...at };
  }

  private parseDecorated(): StmtNode {
    const decorators: ExprNode[] = [];
    const at = this.cur();
    while (this.eatOp("@")) {
      decorators.push(this.parseExpr());
      if (this.cur().kind !== "newline") {
        this.fail(`Expected end of line after decorator, got ${this.describe(this.cur())}`);
      }
      this.next();
    }
    if (this.isKw("def")) return this.parseFunctionDef(decorators, at);
    if (this.isKw("class")) return this.parseClassDef(decorators, at);
    return this.fail(
      `Expected "def" or "class" after a decorator, got ${this.describe(this.cur())}`,
    );
  }

  private parseFunctionDef(decorators: ExprNode[], at: Located): FunctionDefNode {
    this.next(); // def
    const name = this.expectName('after "def"').value;
    this.expectOp("(", ` after function name "${name}"`);
    const params: Param[] = [];
    while (!this.isOp(")")) {
      if (this.isOp("*") || this.isOp("**")) this.fail("Variadic parameters are not supported");
      const p = this.expectName(`for a parameter of "${name}"`);
      if (!this.isOp(":")) {
        this.fail(`Expected ":" after parameter "${p.value}"`);
      }
      this.next();
      const annotation = this.parseExpr();
      if (this.isOp("=")) this.fail(`Parameter "${p.value}" cannot have a default value`);
      params.push({ name: p.value, annotation, line: p.line, col: p.col });
      if (!this.eatOp(",")) break;
    }
    this.expectOp(")", ` after the parameters of "${name}"`);
    const returns = this.eatOp("->") ? this.parseExpr() : undefined;
    const body = this.parseBlock(` after the signature of "${name}"`);
    return {
      kind: "FunctionDef",
      name,
      params,
      returns,
      decorators,
      body,
      line: at.line,
      col: at.col,
    };
  }

  private parseClassDef(decorators: ExprNode[], at: Located): StmtNode {
    this.next(); // class
    const name = this.expectName('after "class"').value;
    if (this.eatOp("(")) {
      while (!this.isOp(")")) {
        this.parseExpr();
        if (!this.eatOp(",")) break;
      }
      this.expectOp(")", ` after the bases of class "${name}"`);
    }
    const body = this.parseBlock(` after "class ${name}"`);
    return { kind: "ClassDef", name, decorators, body, line: at.line, col: at.col };
  }

  private parseIf(): StmtNode {
    const at = this.next(); // if / elif
    const test = this.parseExpr();
    const body = this.parseBlock(" after the if condition");
    let orelse: StmtNode[] | undefined;
    if (this.isKw("elif")) {
      orelse = [this.parseIf()];
    } else if (this.isKw("else")) {
      this.next();
      orelse = this.parseBlock(' after "else"');
    }
    return { kind: "If", test, body, orelse, line: at.line, col: at.col };
  }

  private parseFor(): StmtNode {
    const at = this.next();
    const target = this.parseTargetList();
    if (!this.eatKw("in")) {
      this.fail(`Expected "in" in the for loop, got ${this.describe(this.cur())}`);
    }
    const iter = this.parseExprList();
    const body = this.parseBlock(" after the for loop header");
    return { kind: "For", target, iter, body, line: at.line, col: at.col };
  }

  private parseTargetList(): ExprNode {
    const t = this.cur();
    const elts: ExprNode[] = [];
    const paren = this.eatOp("(");
    do {
      if (this.isKw("in") || this.isOp(")")) break;
      const n = this.expectName("as a loop variable");
      elts.push({ kind: "Name", id: n.value, line: n.line, col: n.col });
    } while (this.eatOp(","));
    if (paren) this.expectOp(")", " after the loop variables");
    if (elts.length === 1 && !paren && !this.isOp(",")) return elts[0]!;
    if (elts.length === 0) this.fail("Expected a loop variable");
    return { kind: "Tuple", elts, line: t.line, col: t.col };
  }

  private parseWhile(): StmtNode {
    const at = this.next();
    const test = this.parseExpr();
    const body = this.parseBlock(" after the while condition");
    return { kind: "While", test, body, line: at.line, col: at.col };
  }

  private parseWith(): StmtNode {
    const at = this.next();
    const context = this.parseExpr();
    let target: ExprNode | undefined;
    if (this.eatKw("as")) target = this.parseExpr();
    if (this.isOp(",")) this.fail("Only one item is allowed in a with statement");
    const body = this.parseBlock(" after the with statement");
    return { kind: "With", context, target, body, line: at.line, col: at.col };
  }

  // ------------------------------------------------------------------ expressions

  /** `a, b` without brackets becomes a tuple. */
}

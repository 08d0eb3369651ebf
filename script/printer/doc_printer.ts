/**
 * Renders a {@link Doc} tree as Python source text, the way TVM's Python doc printer does:
 * Python operator precedence decides parentheses, a function is followed by an empty line,
 * floats print as `1.0` when integral and with 17 significant digits otherwise, and no line is
 * ever wrapped.
 *
 * @module
 */

import {
  type Doc,
  type ExprDoc,
  isExprDoc,
  type Literal,
  type OpKind,
  type SliceDoc,
  type StmtDoc,
} from "./doc.ts";

const Prec = { Or: 3, And: 4, Not: 5, Cmp: 6, Add: 11, Mult: 12, Unary: 13, Atom: 15 } as const;
type Prec = (typeof Prec)[keyof typeof Prec];

const OP_PREC: { readonly [K in OpKind]: Prec } = {
  USub: Prec.Unary,
  Not: Prec.Not,
  Add: Prec.Add,
  Sub: Prec.Add,
  Mult: Prec.Mult,
  Div: Prec.Mult,
  FloorDiv: Prec.Mult,
  Mod: Prec.Mult,
  Lt: Prec.Cmp,
  LtE: Prec.Cmp,
  Eq: Prec.Cmp,
  NotEq: Prec.Cmp,
  Gt: Prec.Cmp,
  GtE: Prec.Cmp,
  And: Prec.And,
  Or: Prec.Or,
};

const OP_TEXT: { readonly [K in OpKind]: string } = {
  USub: "-",
  Not: "not ",
  Add: "+",
  Sub: "-",
  Mult: "*",
  Div: "/",
  FloorDiv: "//",
  Mod: "%",
  Lt: "<",
  LtE: "<=",
  Eq: "==",
  NotEq: "!=",
  Gt: ">",
  GtE: ">=",
  And: "and",
  Or: "or",
};

function precedence(d: ExprDoc): Prec {
  return d.k === "op" ? OP_PREC[d.op] : Prec.Atom;
}

/**
 * Formats a float as TVM's printer does: integral values with one decimal (`2.0`, `-0.0`),
 * others as C's `%.17g`, infinities and NaN as the strings `"inf"`, `"-inf"`, `"nan"`.
 */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return '"nan"';
  if (!Number.isFinite(v)) return v > 0 ? '"inf"' : '"-inf"';
  if (Number.isInteger(v)) {
    if (Object.is(v, -0)) return "-0.0";
    return (Math.abs(v) < 1e21 ? v.toFixed(0) : BigInt(v).toString()) + ".0";
  }
  // C's %.17g: scientific when the exponent is < -4 or >= 17, trailing zeros stripped.
  const e = v.toExponential(16);
  const at = e.indexOf("e");
  const exp = Number(e.slice(at + 1));
  if (exp < -4 || exp >= 17) {
    const mant = stripZeros(e.slice(0, at));
    const sign = exp < 0 ? "-" : "+";
    const digits = String(Math.abs(exp)).padStart(2, "0");
    return `${mant}e${sign}${digits}`;
  }
  return stripZeros(v.toFixed(16 - exp));
}

function stripZeros(s: string): string {
  if (!s.includes(".")) return s;
  return s.replace(/0+$/, "").replace(/\.$/, "");
}

/** Escapes a string for a double-quoted Python literal. */
export function escapeString(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).toUpperCase().padStart(2, "0");
    else out += ch;
  }
  return out;
}

function literal(v: Literal): string {
  switch (v.t) {
    case "none":
      return "None";
    case "bool":
      return v.v ? "True" : "False";
    case "int":
      return String(v.v);
    case "float":
      return formatFloat(v.v);
    case "str":
      return `"${escapeString(v.v)}"`;
    default:
      return v satisfies never;
  }
}

class Printer {
  out = "";
  private indent = 0;

  constructor(private readonly step: number) {}

  newLine(): void {
    this.out += "\n" + " ".repeat(this.indent);
  }

  expr(d: ExprDoc): void {
    switch (d.k) {
      case "id":
        this.out += d.name;
        return;
      case "lit":
        this.out += literal(d.value);
        return;
      case "attr":
        this.child(d.value, Prec.Atom);
        this.out += "." + d.name;
        return;
      case "index":
        this.child(d.value, Prec.Atom);
        if (d.indices.length === 0) {
          this.out += "[()]";
          return;
        }
        this.out += "[";
        d.indices.forEach((ix, i) => {
          if (i > 0) this.out += ", ";
          if (ix.k === "slice") this.slice(ix);
          else this.expr(ix);
        });
        this.out += "]";
        return;
      case "call": {
        this.child(d.callee, Prec.Atom);
        this.out += "(";
        let first = true;
        for (const a of d.args) {
          if (!first) this.out += ", ";
          first = false;
          this.expr(a);
        }
        for (const [k, v] of d.kwargs) {
          if (!first) this.out += ", ";
          first = false;
          this.out += k + "=";
          this.expr(v);
        }
        this.out += ")";
        return;
      }
      case "op":
        this.operation(d.op, d.operands);
        return;
      case "tuple":
        this.out += "(";
        if (d.elements.length === 1) {
          this.expr(d.elements[0]!);
          this.out += ",";
        } else {
          this.joined(d.elements);
        }
        this.out += ")";
        return;
      case "list":
        this.out += "[";
        this.joined(d.elements);
        this.out += "]";
        return;
      case "dict":
        this.out += "{";
        d.keys.forEach((k, i) => {
          if (i > 0) this.out += ", ";
          this.expr(k);
          this.out += ": ";
          this.expr(d.values[i]!);
        });
        this.out += "}";
        return;
      default:
        d satisfies never;
    }
  }

  private operation(kind: OpKind, operands: readonly ExprDoc[]): void {
    const prec = OP_PREC[kind];
    if (kind === "USub" || kind === "Not") {
      this.out += OP_TEXT[kind];
      this.child(operands[0]!, prec);
      return;
    }
    this.child(operands[0]!, prec);
    this.out += ` ${OP_TEXT[kind]} `;
    this.child(operands[1]!, prec, true);
  }

  private child(d: ExprDoc, parent: Prec, parenOnSame = false): void {
    const p = precedence(d);
    if (p < parent || (parenOnSame && p === parent)) {
      this.out += "(";
      this.expr(d);
      this.out += ")";
    } else {
      this.expr(d);
    }
  }

  private slice(s: SliceDoc): void {
    if (s.start) this.expr(s.start);
    this.out += ":";
    if (s.stop) this.expr(s.stop);
    if (s.step) {
      this.out += ":";
      this.expr(s.step);
    }
  }

  private joined(xs: readonly ExprDoc[]): void {
    xs.forEach((x, i) => {
      if (i > 0) this.out += ", ";
      this.expr(x);
    });
  }

  private indented(body: readonly StmtDoc[]): void {
    this.indent += this.step;
    for (const s of body) {
      this.newLine();
      this.stmt(s);
    }
    if (body.length === 0) {
      this.newLine();
      this.out += "pass";
    }
    this.indent -= this.step;
  }

  stmt(d: StmtDoc): void {
    switch (d.k) {
      case "assign":
        if (d.lhs.k === "tuple") this.joined(d.lhs.elements);
        else this.expr(d.lhs);
        if (d.ann) {
          this.out += ": ";
          this.expr(d.ann);
        }
        if (d.rhs) {
          this.out += " = ";
          if (d.rhs.k === "tuple" && d.rhs.elements.length > 1) this.joined(d.rhs.elements);
          else this.expr(d.rhs);
        }
        return;
      case "if":
        this.out += "if ";
        this.expr(d.cond);
        this.out += ":";
        this.indented(d.then);
        if (d.else.length > 0) {
          this.newLine();
          this.out += "else:";
          this.indented(d.else);
        }
        return;
      case "while":
        this.out += "while ";
        this.expr(d.cond);
        this.out += ":";
        this.indented(d.body);
        return;
      case "for":
        this.out += "for ";
        if (d.lhs.k === "tuple") {
          this.joined(d.lhs.elements);
          if (d.lhs.elements.length === 1) this.out += ",";
        } else {
          this.expr(d.lhs);
        }
        this.out += " in ";
        this.expr(d.rhs);
        this.out += ":";
        this.indented(d.body);
        return;
      case "scope":
        this.out += "with ";
        this.expr(d.rhs);
        if (d.lhs) {
          this.out += " as ";
          this.expr(d.lhs);
        }
        this.out += ":";
        this.indented(d.body);
        return;
      case "expr":
        this.expr(d.expr);
        return;
      case "assert":
        this.out += "assert ";
        this.expr(d.test);
        if (d.msg) {
          this.out += ", ";
          this.expr(d.msg);
        }
        return;
      case "return":
        this.out += "return ";
        this.expr(d.value);
        return;
      case "function":
        this.decorators(d.decorators);
        this.out += `def ${d.name}(`;
        d.args.forEach((a, i) => {
          if (i > 0) this.out += ", ";
          this.stmt(a);
        });
        this.out += ")";
        if (d.ret) {
          this.out += " -> ";
          this.expr(d.ret);
        }
        this.out += ":";
        this.indented(d.body);
        this.out += "\n";
        return;
      case "class":
        this.decorators(d.decorators);
        this.out += `class ${d.name}:`;
        this.indented(d.body);
        return;
      case "comment": {
        const lines = d.text === "" ? [] : d.text.split("\n");
        if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
        lines.forEach((line, i) => {
          if (i > 0) this.newLine();
          this.out += "# " + line;
        });
        return;
      }
      case "raw":
        this.out += d.text;
        return;
      case "block":
        d.stmts.forEach((s, i) => {
          this.stmt(s);
          if (i < d.stmts.length - 1) this.newLine();
        });
        return;
      default:
        d satisfies never;
    }
  }

  private decorators(ds: readonly ExprDoc[]): void {
    for (const dec of ds) {
      this.out += "@";
      this.expr(dec);
      this.newLine();
    }
  }
}

/** Renders a doc as Python source with `indent` spaces per level, without trailing whitespace. */
export function docToPython(doc: Doc, indent = 4): string {
  const p = new Printer(indent);
  if (isExprDoc(doc)) p.expr(doc);
  else p.stmt(doc);
  return p.out.replace(/\s+$/, "");
}

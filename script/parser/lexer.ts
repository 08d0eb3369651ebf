/**
 * A tokenizer for the Python subset TVMScript is written in: names, numbers, strings,
 * operators, and `newline`/`indent`/`dedent` tokens from indentation, as Python makes them
 * (newlines inside brackets and after a backslash do not count; comments are dropped).
 *
 * @module
 */

import type { SourceText } from "./errors.ts";

/** The kinds of token. */
export type TokenKind =
  | "name"
  | "int"
  | "float"
  | "string"
  | "op"
  | "newline"
  | "indent"
  | "dedent"
  | "eof";

/** A token with its 1-based position. */
export interface Token {
  readonly kind: TokenKind;
  /** The source spelling (names, operators, numbers) or the decoded value (strings). */
  readonly value: string;
  /** The numeric value of `int` and `float` tokens. */
  readonly num: number;
  readonly line: number;
  readonly col: number;
}

const OPS3 = ["**=", "//=", ">>=", "<<=", "..."];
const OPS2 = [
  "**",
  "//",
  "==",
  "!=",
  "<=",
  ">=",
  "->",
  "<<",
  ">>",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "@=",
  ":=",
];
const OPS1 = "+-*/%@&|^~<>()[]{},:.;=";

const ESCAPES: { readonly [c: string]: string } = {
  n: "\n",
  t: "\t",
  r: "\r",
  "0": "\0",
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "\n": "",
};

/** Splits TVMScript text into tokens; throws a located error on malformed input. */
export function tokenize(src: SourceText): Token[] {
  const text = src.text;
  const out: Token[] = [];
  const indents: number[] = [0];
  let depth = 0; // bracket depth
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let atLineStart = true;
  const n = text.length;

  const pos = (at: number) => ({ line, col: at - lineStart + 1 });
  const push = (kind: TokenKind, value: string, at: number, num = 0) => {
    out.push({ kind, value, num, line, col: at - lineStart + 1 });
  };
  const newline = () => {
    line++;
    lineStart = i;
  };

  while (i < n) {
    if (atLineStart && depth === 0) {
      // measure indentation
      let col = 0;
      let j = i;
      while (j < n && (text[j] === " " || text[j] === "\t" || text[j] === "\f")) {
        col = text[j] === "\t" ? (Math.floor(col / 8) + 1) * 8 : text[j] === "\f" ? 0 : col + 1;
        j++;
      }
      const c = text[j];
      if (j >= n) {
        i = j;
        break;
      }
      if (c === "#" || c === "\n" || c === "\r") {
        // blank or comment-only line: no indentation change
        while (j < n && text[j] !== "\n" && text[j] !== "\r") j++;
        if (text[j] === "\r" && text[j + 1] === "\n") j++;
        i = j + 1;
        if (j < n) newline();
        continue;
      }
      if (c === "\\" && (text[j + 1] === "\n" || text[j + 1] === "\r")) {
        throw src.error("Unexpected line continuation", pos(j));
      }
      const top = indents[indents.length - 1]!;
      if (col > top) {
        indents.push(col);
        push("indent", "", j);
      } else if (col < top) {
        while (col < indents[indents.length - 1]!) {
          indents.pop();
          push("dedent", "", j);
        }
        if (col !== indents[indents.length - 1]) {
          throw src.error("Unindent does not match any outer indentation level", pos(j));
        }
      }
      i = j;
      atLineStart = false;
    }
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\f") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < n && text[i] !== "\n" && text[i] !== "\r") i++;
      continue;
    }
    if (c === "\n" || c === "\r") {
      if (depth === 0) push("newline", "", i);
      if (c === "\r" && text[i + 1] === "\n") i++;
      i++;
      newline();
      atLineStart = depth === 0;
      continue;
    }
    if (c === "\\") {
      const d = text[i + 1];
      if (d === "\n" || d === "\r") {
        i += d === "\r" && text[i + 2] === "\n" ? 3 : 2;
        newline();
        continue;
      }
      throw src.error('Unexpected character "\\"', pos(i));
    }
    const start = i;
    // names (and string prefixes)
    if (/[A-Za-z_]/.test(c) || c.charCodeAt(0) > 127 && /\p{L}/u.test(c)) {
      let j = i + 1;
      while (
        j < n &&
        (/[A-Za-z0-9_]/.test(text[j]!) ||
          text.charCodeAt(j) > 127 && /[\p{L}\p{N}]/u.test(text[j]!))
      ) {
        j++;
      }
      const word = text.slice(i, j);
      if ((text[j] === '"' || text[j] === "'") && /^(r|b|rb|br|u|f)$/i.test(word)) {
        if (/f/i.test(word)) {
          throw src.error("Formatted strings (f-strings) are not supported", pos(i));
        }
        i = j;
        const s = readString(src, text, i, /r/i.test(word), pos);
        for (let k = i; k < s.end; k++) if (text[k] === "\n") lineOffsets(k);
        i = s.end;
        out.push({
          kind: "string",
          value: s.value,
          num: 0,
          line: s.line,
          col: start - s.lineStart + 1,
        });
        continue;
      }
      push("name", word, i);
      i = j;
      continue;
    }
    // numbers
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(text[i + 1] ?? ""))) {
      const m =
        /^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)/
          .exec(text.slice(i, i + 400));
      const lit = m?.[0] ?? "";
      if (lit === "" || lit === ".") throw src.error(`Invalid number`, pos(i));
      const clean = lit.replace(/_/g, "");
      const isFloat = !/^0[xXoObB]/.test(clean) && /[.eE]/.test(clean);
      let num: number;
      if (isFloat) {
        num = Number(clean);
      } else if (/^0[xX]/.test(clean)) {
        num = parseInt(clean.slice(2), 16);
      } else if (/^0[oO]/.test(clean)) {
        num = parseInt(clean.slice(2), 8);
      } else if (/^0[bB]/.test(clean)) {
        num = parseInt(clean.slice(2), 2);
      } else {
        if (/^0[0-9]/.test(clean) && /[1-9]/.test(clean)) {
          throw src.error(`Invalid integer "${lit}": leading zeros are not allowed`, pos(i));
        }
        num = Number(clean);
      }
      if (Number.isNaN(num)) throw src.error(`Invalid number "${lit}"`, pos(i));
      if (!isFloat && !Number.isSafeInteger(num)) {
        throw src.error(`Integer ${lit} is too large`, pos(i));
      }
      if (/[A-Za-z_]/.test(text[i + lit.length] ?? "")) {
        throw src.error(`Invalid number "${lit}${text[i + lit.length]}"`, pos(i));
      }
      push(isFloat ? "float" : "int", lit, i, num);
      i += lit.length;
      continue;
    }
    // strings
    if (c === '"' || c === "'") {
      const s = readString(src, text, i, false, pos);
      for (let k = i; k < s.end; k++) if (text[k] === "\n") lineOffsets(k);
      out.push({
        kind: "string",
        value: s.value,
        num: 0,
        line: s.line,
        col: start - s.lineStart + 1,
      });
      i = s.end;
      continue;
    }
    // operators
    const three = text.slice(i, i + 3);
    const two = text.slice(i, i + 2);
    let op: string | undefined;
    if (OPS3.includes(three)) op = three;
    else if (OPS2.includes(two)) op = two;
    else if (OPS1.includes(c)) op = c;
    if (op === undefined) throw src.error(`Unexpected character "${c}"`, pos(i));
    if (op === "(" || op === "[" || op === "{") depth++;
    if (op === ")" || op === "]" || op === "}") {
      if (depth === 0) throw src.error(`Unmatched "${op}"`, pos(i));
      depth--;
    }
    push("op", op, i);
    i += op.length;
  }
  if (depth > 0) {
    throw src.error("Unexpected end of text: a bracket is not closed", {
      line,
      col: i - lineStart + 1,
    });
  }
  const endPos = i;
  if (out.length > 0 && out[out.length - 1]!.kind !== "newline") push("newline", "", endPos);
  while (indents.length > 1) {
    indents.pop();
    push("dedent", "", endPos);
  }
  push("eof", "", endPos);
  return out;

  // keeps `line`/`lineStart` right after a multi-line (triple-quoted) string
  function lineOffsets(k: number): void {
    line++;
    lineStart = k + 1;
  }
}

interface StringResult {
  readonly value: string;
  readonly end: number;
  /** Line and line start where the string began. */
  readonly line: number;
  readonly lineStart: number;
}

function readString(
  src: SourceText,
  text: string,
  start: number,
  raw: boolean,
  pos: (at: number) => { line: number; col: number },
): StringResult {
  const q = text[start]!;
  const triple = text.slice(start, start + 3) === q.repeat(3);
  const p0 = pos(start);
  const lineStart = start - p0.col + 1;
  let i = start + (triple ? 3 : 1);
  let value = "";
  for (;;) {
    if (i >= text.length) throw src.error("Unterminated string", p0);
    const c = text[i]!;
    if (triple ? text.slice(i, i + 3) === q.repeat(3) : c === q) {
      return { value, end: i + (triple ? 3 : 1), line: p0.line, lineStart };
    }
    if (!triple && (c === "\n" || c === "\r")) throw src.error("Unterminated string", p0);
    if (c === "\\" && !raw) {
      const d = text[i + 1];
      if (d === undefined) throw src.error("Unterminated string", p0);
      if (d === "x" || d === "u" || d === "U") {
        const len = d === "x" ? 2 : d === "u" ? 4 : 8;
        const hex = text.slice(i + 2, i + 2 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) {
          throw src.error(`Invalid escape "\\${d}${hex}" in string`, p0);
        }
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) throw src.error(`Invalid escape "\\${d}${hex}" in string`, p0);
        value += String.fromCodePoint(cp);
        i += 2 + len;
        continue;
      }
      const e = ESCAPES[d];
      value += e ?? "\\" + d;
      i += 2;
      continue;
    }
    if (c === "\\" && raw) {
      value += text.slice(i, i + 2);
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
}

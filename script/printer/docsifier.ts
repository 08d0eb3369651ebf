/**
 * The printer's state while it turns IR into docs (TVM's `IRDocsifier`): a stack of frames
 * that collect statements and own the names defined in them, the name table that keeps names
 * unique (`x`, `x_1`, ...), the metadata table, which of the `I`/`T`/`R` prefixes were used, and
 * the dispatch token (`ir`, `tir`, `relax`) that selects context-dependent spellings.
 *
 * @module
 */

import {
  attr,
  block,
  comment,
  type Doc,
  type ExprDoc,
  id,
  index,
  int,
  isExprDoc,
  type StmtDoc,
  str,
} from "./doc.ts";

/** The dialect context in which a node is printed; it changes how some nodes print. */
export type Token = "" | "ir" | "tir" | "relax";

/** Options of the printer. */
export interface PrinterConfig {
  /** Spaces per indentation level. */
  readonly indent: number;
  /** Whether to print the metadata section (otherwise a comment says it was omitted). */
  readonly showMeta: boolean;
}

/** A scope of the printed program: it collects statements and owns the names defined in it. */
export interface Frame {
  readonly kind: "ir" | "tir" | "relax";
  /** The statements printed so far in this scope. */
  readonly stmts: StmtDoc[];
  /** For TIR frames: the statement or function the frame prints (used to place definitions). */
  readonly node: object | undefined;
  /** TIR: whether the statement being printed may splice its body into this frame. */
  allowConcise: boolean;
  /** Relax: whether the frame is a function. */
  isFunc: boolean;
  /** Relax: symbolic variables first met in the function's signature, while it prints. */
  funcVars: Set<object> | undefined;
  /** Relax: whether `cls = Module` was printed in this function. */
  moduleAliasPrinted: boolean;
  readonly exits: (() => void)[];
}

const PYTHON_KEYWORDS = [
  "False",
  "None",
  "True",
  "and",
  "as",
  "assert",
  "async",
  "await",
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
];

/** The alias under which Relax functions refer to their module (`cls.f`). */
export const MODULE_ALIAS = "cls";

/** The header lines, in TVM's order. */
const HEADER = [
  ["ir", "ir", "I"],
  ["tir", "tir", "T"],
  ["relax", "relax", "R"],
] as const;

/** Turns a node into a doc; the printer's central dispatch. */
export type Dispatch = (node: unknown, d: Docsifier) => Doc;

interface VarInfo {
  readonly doc: () => ExprDoc;
  readonly name: string | undefined;
}

/** The printer state. */
export class Docsifier {
  /** The frame stack, outermost first. */
  readonly frames: Frame[] = [];
  /** Metadata objects by key (e.g. `relax.expr.Constant`), in order of first use. */
  readonly metadata: Map<string, unknown[]> = new Map();
  /** The prefixes used so far, for the `# from tvm.script import ...` header. */
  readonly usage: Set<"ir" | "tir" | "relax"> = new Set();
  /** The names under which functions being printed are bound (module function names). */
  readonly bindingNames: string[] = [];
  /** For each TIR variable or buffer, the nodes enclosing all of its uses (outermost first). */
  commonPrefix: Map<object, readonly object[]> = new Map();
  /** Names of the functions of the module being printed, if any. */
  moduleFunctions: ReadonlySet<string> | undefined;
  /** The name under which the module being printed is declared (`Module`). */
  moduleName = "Module";
  private readonly tokens: Token[] = [""];
  private readonly names: Set<string>;
  private readonly vars = new Map<object, VarInfo>();

  /** A docsifier with the given options and dispatch. */
  constructor(readonly cfg: PrinterConfig, private readonly dispatch: Dispatch) {
    this.names = new Set(["I", "T", "R", MODULE_ALIAS, ...PYTHON_KEYWORDS]);
  }

  /** Turns any node into a doc. */
  asDoc(node: unknown): Doc {
    return this.dispatch(node, this);
  }

  /** Turns a node into an expression doc; throws when it prints as a statement. */
  expr(node: unknown): ExprDoc {
    const doc = this.asDoc(node);
    if (!isExprDoc(doc)) {
      const kind = (node as { kind?: unknown } | null)?.kind;
      throw new Error(`Cannot print ${String(kind)} as an expression`);
    }
    return doc;
  }

  /** The current dispatch token. */
  token(): Token {
    return this.tokens[this.tokens.length - 1]!;
  }

  /** A new frame (not yet entered). */
  newFrame(kind: Frame["kind"], node?: object): Frame {
    return {
      kind,
      stmts: [],
      node,
      allowConcise: false,
      isFunc: false,
      funcVars: undefined,
      moduleAliasPrinted: false,
      exits: [],
    };
  }

  /** Runs `fn` inside `frame` (and dispatch token `token`, when given), then leaves it. */
  withFrame<R>(frame: Frame, fn: (f: Frame) => R, token?: Token): R {
    this.frames.push(frame);
    if (token !== undefined) this.tokens.push(token);
    try {
      return fn(frame);
    } finally {
      if (token !== undefined) this.tokens.pop();
      this.frames.pop();
      for (const exit of frame.exits) exit();
    }
  }

  /** The innermost frame. */
  top(): Frame {
    const f = this.frames[this.frames.length - 1];
    if (!f) throw new Error("Cannot print outside of a frame");
    return f;
  }

  /** Defines `obj` in `frame` under a unique name derived from `hint`; returns its doc. */
  define(obj: object, frame: Frame, hint: string): ExprDoc {
    const old = this.vars.get(obj);
    if (old) return old.doc();
    const name = this.uniqueName(hint);
    this.names.add(name);
    this.vars.set(obj, { doc: () => id(name), name });
    frame.exits.push(() => this.remove(obj));
    return id(name);
  }

  /** Defines `obj` in `frame` as an expression made on demand (e.g. `A.data`). */
  defineAs(obj: object, frame: Frame, doc: () => ExprDoc): void {
    this.vars.set(obj, { doc, name: undefined });
    frame.exits.push(() => this.remove(obj));
  }

  /** The doc of a defined object, or `undefined`. */
  varDoc(obj: object): ExprDoc | undefined {
    return this.vars.get(obj)?.doc();
  }

  /** Whether `obj` is defined. */
  isDefined(obj: object): boolean {
    return this.vars.has(obj);
  }

  private remove(obj: object): void {
    const info = this.vars.get(obj);
    if (info?.name !== undefined) this.names.delete(info.name);
    this.vars.delete(obj);
  }

  private uniqueName(hint: string): string {
    let base = hint.replace(/[^A-Za-z0-9_]/g, "_");
    if (base === "" || /^[0-9]/.test(base)) base = "v" + base;
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    return name;
  }

  /** Records `obj` in the metadata table; returns `metadata["key"][i]`. */
  addMetadata(key: string, obj: unknown): ExprDoc {
    let arr = this.metadata.get(key);
    if (!arr) {
      arr = [];
      this.metadata.set(key, arr);
    }
    let i = arr.indexOf(obj);
    if (i < 0) i = arr.push(obj) - 1;
    return index(index(id("metadata"), [str(key)]), [int(i)]);
  }

  /** `I.<name>` */
  I(name: string): ExprDoc {
    this.usage.add("ir");
    return attr(id("I"), name);
  }

  /** `T.<name>` */
  T(name: string): ExprDoc {
    this.usage.add("tir");
    return attr(id("T"), name);
  }

  /** `R.<name>` */
  R(name: string): ExprDoc {
    this.usage.add("relax");
    return attr(id("R"), name);
  }

  /** Prefixes `doc` with the `# from tvm.script import ...` lines of the prefixes used. */
  withHeader(doc: StmtDoc): StmtDoc {
    if (this.usage.size === 0) return doc;
    const lines: StmtDoc[] = [];
    for (const [key, module, alias] of HEADER) {
      if (this.usage.has(key)) lines.push(comment(`from tvm.script import ${module} as ${alias}`));
    }
    lines.push(comment(""), doc);
    return block(lines);
  }

  /**
   * Computes, for every TIR variable and buffer under `root`, the path of nodes enclosing all
   * of its occurrences, so that a variable with no definition site can be declared in the
   * innermost frame that covers its uses.
   */
  setCommonPrefix(root: unknown): void {
    const prefix = new Map<object, object[]>();
    const visited = new Set<object>();
    const stack: object[] = [];
    const isVar = (x: object) => {
      const k = (x as { kind?: unknown }).kind;
      return k === "Var" || k === "Buffer";
    };
    const handle = (v: object) => {
      const cur = prefix.get(v);
      if (!cur) {
        prefix.set(v, stack.slice());
        return;
      }
      const n = Math.min(cur.length, stack.length);
      let i = 0;
      while (i < n && cur[i] === stack[i]) i++;
      cur.length = i;
    };
    const visit = (x: unknown): void => {
      if (x === null || typeof x !== "object" || ArrayBuffer.isView(x)) return;
      if (visited.has(x)) {
        if (isVar(x)) handle(x);
        return;
      }
      visited.add(x);
      stack.push(x);
      if (Array.isArray(x)) {
        for (const e of x) visit(e);
      } else if (x instanceof Map) {
        for (const [k, v] of x) {
          visit(k);
          visit(v);
        }
      } else {
        for (const v of Object.values(x)) visit(v);
      }
      if (isVar(x)) handle(x);
      stack.pop();
    };
    visit(root);
    this.commonPrefix = prefix;
  }

  /** The innermost TIR frame enclosing all uses of `obj` (the outermost TIR frame otherwise). */
  lowestVarDefFrame(obj: object): Frame {
    const byNode = new Map<object, Frame>();
    let fallback: Frame | undefined;
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.kind !== "tir") continue;
      if (f.node) byNode.set(f.node, f);
      else fallback ??= f;
    }
    const path = this.commonPrefix.get(obj) ?? [];
    for (let i = path.length - 1; i >= 0; i--) {
      const f = byNode.get(path[i]!);
      if (f) return f;
    }
    return fallback ?? this.top();
  }

  /** The outermost Relax function frame, else the outermost Relax frame. */
  relaxFrame(): Frame | undefined {
    let first: Frame | undefined;
    for (const f of this.frames) {
      if (f.kind !== "relax") continue;
      if (f.isFunc) return f;
      first ??= f;
    }
    return first;
  }
}

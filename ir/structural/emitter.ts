/**
 * The plumbing of the canonical token stream (see `canonical.ts`): tokens, paths to them, and
 * variable numbering.
 *
 * @module
 */

/** One element of a canonical stream. */
export type Token = string | number | boolean | bigint | undefined | null | ArrayBufferView;

/** How a variable occurrence was encoded: a new definition, a reference, or a free variable. */
export type VarState = "def" | "ref" | "free";

/** Where a watched token was emitted. */
export interface TokenSite {
  /** The path from the root, e.g. `main.body.blocks[0].bindings[2].value.args[1]`. */
  readonly path: string;
  /** The value at that path (a node, an array, or a field's value). */
  readonly value: unknown;
  /** Set when the token encodes a variable occurrence. */
  readonly varState: VarState | undefined;
}

/** Options of a {@link Canonicalizer}. */
export interface CanonicalOptions {
  /** Define free variables where first met instead of comparing them by identity. */
  readonly mapFreeVars?: boolean;
  /** Record in `site` where the token with this index (0-based) is emitted. */
  readonly watch?: number;
}

const identities = new WeakMap<object, number>();
let nextIdentity = 0;

/** A process-wide number identifying an object (used for free variables). */
export function identity(x: object): number {
  let id = identities.get(x);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(x, id);
  }
  return id;
}

/** The path segment of a dictionary key: `.name`, or `["odd key"]`. */
export function keySeg(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

/** Emits tokens with their paths; subclasses walk the node kinds. */
export abstract class Emitter {
  protected readonly sink: (t: Token) => void;
  protected readonly mapFree: boolean;
  protected readonly watch: number;
  protected readonly ids = new Map<object, number>();
  protected next = 0;
  protected defining = false;
  protected readonly segs: string[] = [];
  protected readonly vals: unknown[] = [];
  protected state: VarState | undefined;
  protected count = 0;
  /** Where the watched token was emitted, once it was. */
  site: TokenSite | undefined;

  /** An emitter sending tokens to `sink`. */
  constructor(sink: (t: Token) => void, options: CanonicalOptions = {}) {
    this.sink = sink;
    this.mapFree = options.mapFreeVars ?? false;
    this.watch = options.watch ?? -1;
  }

  /** Emits the stream of `x` (any IR node, array, attribute value or primitive). */
  run(x: unknown): void {
    this.vals.push(x);
    this.any(x);
    this.vals.pop();
  }

  // -- plumbing ---------------------------------------------------------------------------------

  protected emit(t: Token): void {
    if (this.count === this.watch) {
      const path = this.segs.join("").replace(/^\./, "");
      this.site = { path: path || "<root>", value: this.vals.at(-1), varState: this.state };
    }
    this.count++;
    this.sink(t);
  }

  protected push(seg: string, v: unknown): void {
    this.segs.push(seg);
    this.vals.push(v);
  }

  protected pop(): void {
    this.segs.pop();
    this.vals.pop();
  }

  protected leaf(seg: string, t: Token, shown: unknown = t): void {
    this.push(seg, shown);
    this.emit(t);
    this.pop();
  }

  protected varTok(state: VarState, n?: number): void {
    this.state = state;
    this.emit(state);
    if (n !== undefined) this.emit(n);
    this.state = undefined;
  }

  protected list<T>(seg: string, xs: readonly T[], each: (x: T) => void): void {
    this.push(seg, xs);
    this.emit(xs.length);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      this.push(`[${i}]`, x);
      each(x);
      this.pop();
    }
    this.pop();
  }

  protected optional<T>(seg: string, x: T | undefined, each: (x: T) => void): void {
    if (x === undefined) {
      this.leaf(seg, undefined);
      return;
    }
    this.push(seg, x);
    each(x);
    this.pop();
  }

  protected withDefining(fn: () => void): void {
    const saved = this.defining;
    this.defining = true;
    fn();
    this.defining = saved;
  }

  // -- generic ----------------------------------------------------------------------------------

  protected field(seg: string, x: unknown): void {
    this.push(seg, x);
    this.any(x);
    this.pop();
  }

  protected dict(x: Readonly<Record<string, unknown>>): void {
    this.emit("dict");
    const keys = Object.keys(x).sort();
    this.emit(keys.length);
    for (const k of keys) {
      this.push(keySeg(k), x[k]);
      this.emit(k);
      this.any(x[k]);
      this.pop();
    }
  }

  /** Emits any value, dispatching on its kind. */
  protected abstract any(x: unknown): void;
}

/**
 * `ConvertLayout`: converts operators to the layouts the user asks for (TVM's `ConvertLayout`),
 * e.g. every `conv2d` to NHWC data and OHWI kernels:
 *
 * ```ts
 * const nhwc = convertLayout({ "relax.nn.conv2d": ["NHWC", "OHWI"] })(mod);
 * ```
 *
 * Within each dataflow block, an operator named in `desiredLayouts` takes those layouts, with a
 * `layout_transform` of each argument that is not in that layout yet. The new layout then flows
 * forward: layout-agnostic operators that follow (elementwise unary and binary operators, the
 * normalizations and softmax, whose axis attributes are renumbered, pools and convolutions not
 * named in `desiredLayouts`) keep it, so no transforms appear between them. Values leave the
 * block (outputs) in their original layout. Two back-to-back transforms are composed into one,
 * and cancel when they are inverse (also with `layout_transform`s already in the program).
 *
 * Operators without a layout rule (matmul, reshape, reductions, ...) are a documented no-op: their
 * arguments are transformed back to the original layout first. Naming such an operator in
 * `desiredLayouts` is an error, as is naming one that follows its input's layout (elementwise).
 * Desired layouts must be permutations of the operator's layout (`NCHW` -> `NHWC`); packed
 * layouts like `NCHW4c` are not supported.
 *
 * @module
 */

import type { DataflowVar } from "../../ir/relax/expr.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  dataflowVar,
  type Expr,
  isVar,
  type RCall,
  tuple,
  tupleGetItem,
} from "../../ir/relax/expr.ts";
import { BindingEmitter } from "../../ir/relax/dpl/emitter.ts";
import { usedVars } from "../../ir/relax/dpl/match.ts";
import { makeOpCall } from "../../ir/relax/op/registry.ts";
import { layoutPermutation } from "../../ir/relax/op/manipulate.ts";
import { structuralEqual } from "../../ir/structural.ts";
import { rewriteExpr } from "../../ir/visit.ts";
import { dataflowBlockPass, type Pass } from "../pass.ts";
import {
  defaultNames,
  initialLayout,
  type Layout,
  LAYOUT_RULES,
  type LayoutDecision,
  type NLayout,
  render,
} from "./_layout_rules.ts";

/** Desired layouts by operator name, e.g. `{ "relax.nn.conv2d": ["NHWC", "OHWI"] }`. */
export type DesiredLayouts = { readonly [opName: string]: readonly string[] };

function checkDesired(desired: DesiredLayouts): void {
  for (const [name, layouts] of Object.entries(desired)) {
    const entry = LAYOUT_RULES.get(name);
    if (!entry) throw new Error(`ConvertLayout: no layout rule for "${name}"`);
    if (!entry.desired) {
      throw new Error(
        `ConvertLayout: "${name}" follows the layout of its input and takes no desired layout`,
      );
    }
    const { min, max, what } = entry.desired;
    if (!Array.isArray(layouts) || layouts.length < min || layouts.length > max) {
      throw new Error(
        `ConvertLayout: "${name}" takes ${min} to ${max} desired layouts (${what}), got ${
          Array.isArray(layouts) ? layouts.length : JSON.stringify(layouts)
        }`,
      );
    }
    for (const l of layouts) {
      if (typeof l !== "string" || !/^[A-Z]+$/.test(l) || new Set(l).size !== l.length) {
        throw new Error(
          `ConvertLayout: desired layout ${
            JSON.stringify(l)
          } for "${name}" must be distinct capital letters (e.g. "NHWC")`,
        );
      }
    }
  }
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

function isLeaf(l: NLayout): l is Layout {
  return l !== undefined && !Array.isArray(l);
}

/** Rewrites one dataflow block. */
class BlockConverter {
  readonly #em = new BindingEmitter(true);
  readonly #layout = new Map<AnyVar, NLayout>();
  readonly #remap = new Map<AnyVar, Expr>();
  /** Variables bound (in the new block) to a `layout_transform`: its source and permutation. */
  readonly #transformOf = new Map<AnyVar, { src: Expr; perm: readonly number[] }>();
  readonly #emitted = new Set<AnyVar>();
  #current: Binding | undefined;
  /** `output = source` bindings left where a transform pair cancelled. */
  readonly #aliases = new Set<Binding>();

  constructor(readonly desired: DesiredLayouts) {}

  /** The initial layout of an expression's value. */
  #initial(e: Expr): NLayout {
    const s = e.structInfo;
    if (s.kind === "TensorStructInfo") return s.ndim >= 0 ? initialLayout(s.ndim) : undefined;
    if (s.kind === "TupleStructInfo") {
      return s.fields.map((
        f,
      ) => (f.kind === "TensorStructInfo" && f.ndim >= 0 ? initialLayout(f.ndim) : undefined));
    }
    return undefined;
  }

  #layoutOf(e: Expr): NLayout {
    return isVar(e) && this.#layout.has(e) ? this.#layout.get(e) : this.#initial(e);
  }

  #mapVar(e: Expr): Expr {
    return isVar(e) ? this.#remap.get(e) ?? e : e;
  }

  /** Emits `layout_transform(x, perm)` (composed with a transform `x` comes from). */
  #transform(x: Expr, perm: readonly number[], names: string, bindTo?: AnyVar): Expr {
    let src = x, p = perm, n = names;
    const from = isVar(x) ? this.#transformOf.get(x) : undefined;
    if (from) {
      src = from.src;
      p = perm.map((j) => from.perm[j]!);
      const srcLayout = isVar(src) ? this.#layout.get(src) : undefined;
      n = isLeaf(srcLayout) && srcLayout.names
        ? render(srcLayout.perm, srcLayout.names)
        : defaultNames(p.length);
    }
    if (p.every((v, i) => v === i)) return src;
    const call = makeOpCall("relax.layout_transform", [src], {
      src_layout: n,
      dst_layout: render(p, n),
    });
    const v = bindTo ?? dataflowVar("lv", call.structInfo);
    this.#em.bind(v, call);
    if (!bindTo) this.#emitted.add(v);
    this.#transformOf.set(v, { src, perm: p });
    return v;
  }

  /** `e` (remapped) converted from its current layout to `to`. */
  #convert(e0: Expr, to: NLayout, bindTo?: AnyVar): Expr {
    const e = this.#mapVar(e0);
    if (e.kind === "relax.Tuple" && Array.isArray(to)) {
      const fields = e.fields.map((f, i) => this.#convert(f, (to as NLayout[])[i]));
      return fields.every((f, i) => f === e.fields[i]) ? e : tuple(fields);
    }
    const from = this.#layoutOf(e0);
    if (isLeaf(from) && isLeaf(to)) {
      if (same(from.perm, to.perm)) return e;
      // The permutation from `from`'s storage order to `to`'s.
      const q = to.perm.map((a) => from.perm.indexOf(a));
      const names = from.names ?? to.names ?? defaultNames(q.length);
      return this.#transform(e, q, render(from.perm, names), bindTo);
    }
    if (Array.isArray(from) && Array.isArray(to) && isVar(e)) {
      const fs = from as NLayout[], ts = to as NLayout[];
      if (fs.every((f, i) => !isLeaf(f) || !isLeaf(ts[i]) || same(f.perm, ts[i].perm))) return e;
      const items = ts.map((t, i) => {
        const item = this.#em.emit(tupleGetItem(e, i));
        this.#layout.set(item, fs[i]);
        return this.#convert(item, t);
      });
      return tuple(items);
    }
    return e;
  }

  /** Any expression with its variables remapped and converted to their initial layouts. */
  #plain(e: Expr): Expr {
    return rewriteExpr(e, {
      preExpr: (x) => (isVar(x) ? this.#convert(x, this.#initial(x)) : undefined),
    });
  }

  /** Binds `v` to `value`, reusing the binding being rewritten when nothing changed. */
  #put(v: AnyVar, value: Expr): void {
    const cur = this.#current;
    if (cur && cur.var === v && cur.value === value) this.#em.push(cur);
    else this.#em.bind(v, value);
  }

  /** Binds `v` (or a new variable when the StructInfo changed) to `value` with `layout`. */
  #rebind(v: AnyVar, value: Expr, layout: NLayout): void {
    let nv = v;
    if (!structuralEqual(value.structInfo, v.structInfo)) {
      nv = { ...v, structInfo: value.structInfo };
      this.#remap.set(v, nv);
    }
    this.#put(nv, value);
    this.#layout.set(nv, layout);
    if (nv !== v) this.#layout.set(v, layout);
  }

  #decide(call: RCall): LayoutDecision | undefined {
    if (call.op.kind !== "relax.Op") return undefined;
    const entry = LAYOUT_RULES.get(call.op.name);
    if (!entry) return undefined;
    const layouts = call.args.map((a) => this.#layoutOf(a));
    const tensors = call.args.map((a) => a.structInfo.kind === "TensorStructInfo");
    if (layouts.some((l, i) => tensors[i] && !isLeaf(l))) return undefined; // unknown rank
    return entry.rule(call, layouts, this.desired[call.op.name]);
  }

  #call(v: AnyVar, call: RCall): void {
    const op = call.op.kind === "relax.Op" ? call.op.name : "";
    if (op === "relax.layout_transform") return this.#layoutTransform(v, call);
    const d = this.#decide(call);
    const output = v.kind === "relax.DataflowVar";
    if (!d || (!output && v.structInfo.kind !== "TensorStructInfo")) {
      const args = call.args.map((a) => this.#plain(a));
      const value = args.every((a, i) => a === call.args[i]) ? call : { ...call, args };
      return this.#rebind(v, value, this.#initial(v));
    }
    const args = call.args.map((a, i) => {
      const to = d.inputs[i];
      return to === null || to === undefined ? this.#plain(a) : this.#convert(a, to);
    });
    const unchanged = args.every((a, i) => a === call.args[i]) &&
      structuralEqual(d.attrs, call.attrs);
    const value = unchanged ? call : makeOpCall(op, args, d.attrs, call.sinfoArgs);
    if (output) return this.#rebind(v, value, d.output);
    if (isLeaf(d.output) && !same(d.output.perm, initialLayout(d.output.perm.length).perm)) {
      const tmp = dataflowVar(v.name, value.structInfo);
      this.#em.bind(tmp, value);
      this.#layout.set(tmp, d.output);
      this.#convert(tmp, this.#initial(v), v);
    } else {
      this.#put(v, value);
    }
    this.#layout.set(v, this.#initial(v));
  }

  /** A `layout_transform` already in the program: composed with the transform feeding it. */
  #layoutTransform(v: AnyVar, call: RCall): void {
    const x = this.#convert(call.args[0]!, this.#initial(call.args[0]!));
    const src = String(call.attrs["src_layout"]), dst = String(call.attrs["dst_layout"]);
    const perm = layoutPermutation(src, dst);
    const result = isVar(x) && this.#transformOf.has(x)
      ? this.#transform(x, perm, src, v)
      : x === call.args[0]
      ? call
      : { ...call, args: [x] };
    if (result === v) return void this.#layout.set(v, this.#initial(v));
    if (result.kind === "relax.Call") {
      this.#put(v, result);
      if (isVar(x)) this.#transformOf.set(v, { src: x, perm });
    } else if (v.kind === "relax.DataflowVar") {
      this.#remap.set(v, result); // cancelled: uses of v read the source directly
    } else {
      this.#put(v, result);
      this.#aliases.add(this.#em.bindings[this.#em.bindings.length - 1]!);
    }
    this.#layout.set(v, this.#initial(v));
  }

  /** `d = value; out = d` (an alias from a cancelled pair, `d` used once) becomes `out = value`. */
  #foldAliases(bindings: Binding[]): Binding[] {
    const uses = new Map<AnyVar, number>();
    for (const b of bindings) {
      for (const v of usedVars(b.value)) uses.set(v, (uses.get(v) ?? 0) + 1);
    }
    const rename = new Map<AnyVar, AnyVar>();
    for (const b of this.#aliases) {
      const d = b.value;
      if (d.kind !== "relax.DataflowVar" || uses.get(d) !== 1) continue;
      const def = bindings.find((x) => x.var === d);
      if (def?.kind === "VarBinding" && structuralEqual(def.value.structInfo, b.var.structInfo)) {
        rename.set(d, b.var);
      }
    }
    if (rename.size === 0) return bindings;
    return bindings
      .filter((b) => !(this.#aliases.has(b) && isVar(b.value) && rename.has(b.value)))
      .map((b) => (rename.has(b.var) ? { ...b, var: rename.get(b.var)! } : b));
  }

  run(block: BindingBlock): BindingBlock {
    for (const b of block.bindings) {
      const v = b.var, value = b.value;
      this.#current = b;
      if (b.kind === "MatchCast") {
        const x = this.#plain(value);
        this.#em.push(x === value ? b : { ...b, value: x });
        continue;
      }
      const keep = v.kind === "relax.DataflowVar";
      switch (value.kind) {
        case "relax.Call":
          this.#call(v, value);
          break;
        case "relax.Tuple": {
          const layouts = value.fields.map((f) => (keep ? this.#layoutOf(f) : this.#initial(f)));
          const fields = value.fields.map((f, i) => this.#convert(f, layouts[i]));
          const t = fields.every((f, i) => f === value.fields[i]) ? value : tuple(fields);
          this.#rebind(v, t, layouts);
          break;
        }
        case "relax.TupleGetItem": {
          const tl = keep ? this.#layoutOf(value.tuple) : this.#initial(value.tuple);
          const t = this.#convert(value.tuple, tl);
          const item = t === value.tuple ? value : tupleGetItem(t, value.index);
          this.#rebind(v, item, Array.isArray(tl) ? (tl as NLayout[])[value.index] : undefined);
          break;
        }
        case "relax.Var":
        case "relax.DataflowVar": {
          const to = keep ? this.#layoutOf(value) : this.#initial(value);
          this.#rebind(v, this.#convert(value, to), to);
          break;
        }
        default:
          this.#rebind(v, this.#plain(value), this.#initial(v));
      }
    }
    return this.#finish(block);
  }

  /** Drops transforms that ended up unused; the block itself when nothing changed. */
  #finish(block: BindingBlock): BindingBlock {
    let out = this.#em.bindings;
    for (;;) {
      const used = new Set<AnyVar>();
      for (const b of out) for (const v of usedVars(b.value)) used.add(v);
      const next = out.filter((b) =>
        !(b.var.kind === "relax.DataflowVar" && !used.has(b.var) &&
          (this.#emitted.has(b.var) || this.#wasUsed(block, b.var as DataflowVar)) &&
          b.value.kind === "relax.Call" && b.value.op.kind === "relax.Op" &&
          b.value.op.name === "relax.layout_transform")
      );
      if (next.length === out.length) break;
      out = next;
    }
    out = this.#foldAliases(out);
    if (out.length === block.bindings.length && out.every((b, i) => b === block.bindings[i])) {
      return block;
    }
    return { ...block, bindings: out };
  }

  #wasUsed(block: BindingBlock, v: DataflowVar): boolean {
    return block.bindings.some((b) => usedVars(b.value).has(v));
  }
}

/**
 * The `ConvertLayout` pass (see the module documentation). Returns the module itself when no
 * operator changes layout.
 */
export function convertLayout(desiredLayouts: DesiredLayouts): Pass {
  checkDesired(desiredLayouts);
  return dataflowBlockPass("ConvertLayout", (block) => {
    if (!block.bindings.some((b) => b.value.kind === "relax.Call")) return block;
    return new BlockConverter(desiredLayouts).run(block);
  });
}

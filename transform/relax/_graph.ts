/**
 * The dataflow graph `FuseOps` partitions (TVM's IndexedForwardGraph): one node per function
 * parameter, bound variable and leaf value (constant, shape, prim value), numbered in post-DFS
 * (definition) order, with an edge from each value to every binding that uses it. A node's
 * pattern is the fusion kind of its binding: the `"op_pattern"` of the PrimFunc a `call_tir`
 * calls, injective for a tuple access, opaque for everything else.
 *
 * @module
 */

import type { IRModule } from "../../ir/module.ts";
import type { Binding, Expr, Function, RCall } from "../../ir/relax/expr.ts";
import { isVar } from "../../ir/relax/expr.ts";
import { PATTERN_RANK } from "../../ir/relax/op/registry.ts";
import { displayNode } from "../../ir/display.ts";
import { rewriteExpr } from "../../ir/visit.ts";
import { opPatternAttr } from "./annotate_tir_op_pattern.ts";

/** A node's or edge's fusion kind, as TVM's integer OpPatternKind. */
export type PatternKind = number;

/** Opaque: never fused. */
export const OPAQUE: PatternKind = PATTERN_RANK["opaque"];
/** Injective. */
export const INJECTIVE: PatternKind = PATTERN_RANK["injective"];

/** An edge to a consumer, carrying the consumer's pattern. */
export interface GraphEdge {
  /** The consuming node. */
  readonly node: GraphNode;
  /** The consumer's pattern. */
  readonly pattern: PatternKind;
}

/** A node of the graph. */
export interface GraphNode {
  /** The IR object the node stands for (a variable or a leaf value). */
  readonly ref: object;
  /** The position in post-DFS order. */
  readonly index: number;
  /** Referenced from outside the dataflow region (a parameter or an output variable). */
  externRef: boolean;
  /** The fusion kind. */
  pattern: PatternKind;
  /** The consumers. */
  readonly outputs: GraphEdge[];
}

/** The graph: nodes by IR object, and in post-DFS order. */
export interface ForwardGraph {
  /** The node of each IR object. */
  readonly nodeMap: Map<object, GraphNode>;
  /** All nodes, producers before consumers. */
  readonly postDfsOrder: GraphNode[];
}

/** Whether a Relax function takes part in fusion (not already a fused or offloaded function). */
export function isFusibleFunction(f: Function): boolean {
  const prim = f.attrs["Primitive"];
  return !(prim === true || (typeof prim === "number" && prim !== 0)) &&
    typeof f.attrs["Codegen"] !== "string";
}

/** Whether an attribute value holds a nonzero integer or `true`. */
export function isNonzeroAttr(v: unknown): boolean {
  return v === true || (typeof v === "number" && v !== 0);
}

const LEAF_KINDS: ReadonlySet<string> = new Set([
  "relax.Var",
  "relax.DataflowVar",
  "relax.Constant",
  "relax.ShapeExpr",
  "relax.PrimValue",
  "relax.StringImm",
  "relax.DataTypeImm",
]);

class GraphCreator {
  readonly graph: ForwardGraph = { nodeMap: new Map(), postDfsOrder: [] };
  #inputParams = new Set<object>();

  constructor(readonly mod: IRModule) {}

  #create(ref: object, pattern: PatternKind, externRef = false): GraphNode {
    if (this.graph.nodeMap.has(ref)) {
      const name = isVar(ref as Expr) ? `"${(ref as { name: string }).name}"` : "a value";
      throw new Error(`FuseOps: variable ${name} is defined more than once`);
    }
    const node: GraphNode = {
      ref,
      index: this.graph.postDfsOrder.length,
      externRef,
      pattern,
      outputs: [],
    };
    this.graph.nodeMap.set(ref, node);
    this.graph.postDfsOrder.push(node);
    return node;
  }

  function(f: Function): void {
    for (const p of f.params) this.#create(p, OPAQUE, true);
    const numInput = f.attrs["num_input"];
    this.#inputParams = new Set(
      typeof numInput === "number" ? f.params.slice(numInput) : [],
    );
    const body = f.body;
    if (body.kind !== "relax.SeqExpr") return;
    for (const block of body.blocks) for (const b of block.bindings) this.#binding(b);
  }

  #binding(b: Binding): void {
    // The node is made after its inputs (post-DFS), so collect the edges first.
    const edges: [Expr, PatternKind][] = [];
    let pattern = OPAQUE;
    const value = b.value;
    if (b.kind === "MatchCast") {
      // A match_cast is opaque and takes no edges, as in TVM.
    } else if (value.kind === "relax.Call") {
      const { pattern: p, args } = this.#callInfo(value);
      pattern = p;
      for (const a of args) this.#leafEdges(a, p, edges, value);
    } else if (value.kind === "relax.TupleGetItem") {
      pattern = this.#inputParams.has(value.tuple) ? OPAQUE : INJECTIVE;
      this.#leafEdges(value.tuple, pattern, edges, value);
    } else {
      // Unsupported values are opaque; every variable or constant they use feeds them.
      rewriteExpr(value, {
        expr: (e) => {
          if (isVar(e) || e.kind === "relax.Constant") edges.push([e, OPAQUE]);
          return undefined;
        },
      });
    }
    const leafNodes = edges.map(([e, p]) => [this.#leaf(e), p] as const);
    const node = this.#create(b.var, pattern, b.var.kind !== "relax.DataflowVar");
    for (const [leaf, p] of leafNodes) leaf.outputs.push({ node, pattern: p });
  }

  #callInfo(call: RCall): { pattern: PatternKind; args: readonly Expr[] } {
    if (call.op.kind !== "relax.Op" || call.op.name !== "relax.call_tir") {
      return { pattern: OPAQUE, args: call.args };
    }
    const callee = call.args[0];
    const f = callee?.kind === "GlobalVar" ? this.mod.functions.get(callee.name) : undefined;
    if (!f || f.kind !== "PrimFunc") {
      const name = callee?.kind === "GlobalVar" ? `"${callee.name}"` : "callee";
      throw new Error(`FuseOps: call_tir ${name} is not a PrimFunc of the module`);
    }
    const tup = call.args[1];
    if (!tup || tup.kind !== "relax.Tuple") {
      const name = callee?.kind === "GlobalVar" ? callee.name : "?";
      throw new Error(`FuseOps: call_tir of "${name}" must pass its arguments as a tuple`);
    }
    return { pattern: opPatternAttr(f) ?? OPAQUE, args: tup.fields };
  }

  #leafEdges(e: Expr, p: PatternKind, edges: [Expr, PatternKind][], call: Expr): void {
    if (e.kind === "relax.Tuple") {
      for (const x of e.fields) this.#leafEdges(x, p, edges, call);
      return;
    }
    if (LEAF_KINDS.has(e.kind)) {
      edges.push([e, p]);
      return;
    }
    if (e.kind === "GlobalVar" || e.kind === "relax.ExternFunc" || e.kind === "relax.Op") return;
    throw new Error(
      `FuseOps expects call arguments to be variables, constants or tuples of them, but ${
        displayNode(call)
      } has argument ${displayNode(e)}`,
    );
  }

  #leaf(e: Expr): GraphNode {
    return this.graph.nodeMap.get(e) ?? this.#create(e, OPAQUE);
  }
}

/** Builds the dataflow graph of the given Relax functions of `mod`. */
export function createGraph(mod: IRModule, functions: readonly Function[]): ForwardGraph {
  const c = new GraphCreator(mod);
  for (const f of functions) c.function(f);
  return c.graph;
}

/**
 * The fusion algorithm of `FuseOps` (TVM's GraphPartitioner): a post-dominator tree of the
 * dataflow graph, then groups grown by merging each node into its immediate post-dominator
 * when every path between them satisfies the rules of its pattern kind:
 *
 * - out-elemwise-fusable (matmul, conv): into an elementwise post-dominator, through broadcast
 *   or simpler nodes (phase 0);
 * - elemwise/broadcast: into an injective or reduction post-dominator, through injective or
 *   simpler nodes, ending at a node that may already be in an out-elemwise-fusable group;
 * - injective: into its post-dominator when all paths are injective or simpler (phase 1);
 * - reductions and opaque nodes start groups but never join one.
 *
 * Groups are a union-find; a group holds at most one out-elemwise-fusable anchor.
 *
 * @module
 */

import type { Attrs } from "../../ir/tir/stmt.ts";
import type { ForwardGraph, GraphEdge, GraphNode, PatternKind } from "./_graph.ts";
import { PATTERN_RANK } from "../../ir/relax/op/registry.ts";

const ELEMWISE = PATTERN_RANK["elemwise"];
const BROADCAST = PATTERN_RANK["broadcast"];
const INJECTIVE = PATTERN_RANK["injective"];
const REDUCE = PATTERN_RANK["reduction"];
const OUT_EWISE = PATTERN_RANK["out-elemwise-fusable"];
const OPAQUE = PATTERN_RANK["opaque"];

/** A node of the post-dominator tree. */
interface DomNode {
  readonly gnode: GraphNode;
  readonly parent: DomNode | undefined;
  readonly depth: number;
  /** The most complex edge pattern on the way to the parent. */
  readonly pattern: PatternKind;
}

function lca(
  a: DomNode | undefined,
  b: DomNode | undefined,
  pattern: { p: PatternKind },
): DomNode | undefined {
  while (a !== b) {
    if (!a || !b) return undefined;
    if (a.depth < b.depth) {
      pattern.p = Math.max(pattern.p, b.pattern);
      b = b.parent;
    } else if (b.depth < a.depth) {
      pattern.p = Math.max(pattern.p, a.pattern);
      a = a.parent;
    } else {
      pattern.p = Math.max(pattern.p, a.pattern, b.pattern);
      a = a.parent;
      b = b.parent;
    }
  }
  return a;
}

/** The post-dominator tree, one node per graph node (by index). */
function postDominators(graph: ForwardGraph): DomNode[] {
  const nodes: DomNode[] = new Array(graph.postDfsOrder.length);
  for (let i = graph.postDfsOrder.length - 1; i >= 0; i--) {
    const g = graph.postDfsOrder[i]!;
    if (g.externRef || g.outputs.length === 0) {
      nodes[i] = { gnode: g, parent: undefined, depth: 1, pattern: OPAQUE };
      continue;
    }
    const acc = { p: ELEMWISE };
    const edges: readonly GraphEdge[] = g.outputs;
    let parent: DomNode | undefined = nodes[edges[0]!.node.index];
    acc.p = Math.max(acc.p, edges[0]!.pattern);
    for (const e of edges.slice(1)) {
      parent = lca(parent, nodes[e.node.index], acc);
      acc.p = Math.max(acc.p, e.pattern);
    }
    nodes[i] = {
      gnode: g,
      parent,
      depth: parent ? parent.depth + 1 : 1,
      pattern: acc.p,
    };
  }
  return nodes;
}

/** A group of fused nodes (a union-find set). */
export interface Group {
  /** The parent in the union-find; `undefined` for a root. */
  parent: Group | undefined;
  /** The group's pattern. */
  pattern: PatternKind;
  /** The node the group started from. */
  readonly rootRef: object;
  /** The out-elemwise-fusable node of the group, if any. */
  anchorRef: object | undefined;
  /** The number of nodes in the group (valid at its root). */
  numNodes: number;
  /** Attributes given to the function made from the group. */
  attrs: Attrs;
}

/** The root of `g`'s set, compressing the path. */
export function findRoot(g: Group): Group {
  let root = g;
  while (root.parent) root = root.parent;
  for (let p: Group = g; p !== root;) {
    const next: Group = p.parent!;
    p.parent = root;
    p = next;
  }
  return root;
}

/** Options of {@link partitionGraph}. */
export interface PartitionOptions {
  /** 0 disables fusion. */
  readonly optLevel: number;
  /** The most nodes one group may hold. */
  readonly maxDepth: number;
}

class Partitioner {
  readonly groups: Group[];
  #visited = new Set<GraphNode>();

  constructor(readonly graph: ForwardGraph, readonly maxDepth: number) {
    this.groups = graph.postDfsOrder.map((n) => ({
      parent: undefined,
      pattern: n.pattern,
      rootRef: n.ref,
      anchorRef: n.pattern === OUT_EWISE ? n.ref : undefined,
      numNodes: 1,
      attrs: {},
    }));
  }

  #checkPathRec(
    src: GraphNode,
    sink: GraphNode,
    cond: (k: PatternKind, isSink: boolean) => boolean,
  ): boolean {
    if (this.#visited.has(src)) return true;
    this.#visited.add(src);
    const g = findRoot(this.groups[src.index]!);
    if (!cond(g.pattern, src === sink)) return false;
    if (src === sink) return true;
    return src.outputs.every((e) => this.#checkPathRec(e.node, sink, cond));
  }

  /** Whether every node on the paths from `src` (excluded) to `sink` satisfies `cond`. */
  checkPath(
    src: GraphNode,
    sink: GraphNode,
    cond: (k: PatternKind, isSink: boolean) => boolean,
  ): boolean {
    this.#visited.clear();
    return src.outputs.every((e) => this.#checkPathRec(e.node, sink, cond));
  }

  #merge(child: Group, parent: Group): void {
    child = findRoot(child);
    parent = findRoot(parent);
    if (child === parent) return;
    parent.numNodes += child.numNodes;
    child.parent = parent;
    // The fusion rules never merge two anchored groups.
    if (child.anchorRef !== undefined) {
      parent.anchorRef = child.anchorRef;
      parent.pattern = Math.max(child.pattern, parent.pattern);
    }
  }

  #commitRec(src: GraphNode, sink: GraphNode, target: Group): void {
    if (src === sink || this.#visited.has(src)) return;
    this.#visited.add(src);
    this.#merge(this.groups[src.index]!, target);
    for (const e of src.outputs) this.#commitRec(e.node, sink, target);
  }

  /** Merges every node on the paths from `src` to `sink` into `sink`'s group. */
  commit(src: GraphNode, sink: GraphNode): void {
    this.#visited.clear();
    this.#commitRec(src, sink, this.groups[sink.index]!);
  }

  #countRec(src: GraphNode, sink: GraphNode): number {
    if (src === sink || this.#visited.has(src)) return 0;
    this.#visited.add(src);
    let sum = this.groups[src.index]!.numNodes;
    for (const e of src.outputs) sum += this.#countRec(e.node, sink);
    return sum;
  }

  /** The size of `parent`'s group after fusing the paths from `child` into it. */
  countWithChild(child: GraphNode, parent: GraphNode): number {
    this.#visited.clear();
    return findRoot(this.groups[parent.index]!).numNodes + this.#countRec(child, parent);
  }

  run(dom: readonly DomNode[], phase: number): void {
    const order = this.graph.postDfsOrder;
    for (let i = 0; i < order.length; i++) {
      const node = order[i]!;
      const d = dom[i]!;
      const group = this.groups[i]!;
      if (group.pattern === OPAQUE || !d.parent) continue;
      const sink = d.parent.gnode;
      if (this.countWithChild(node, sink) > this.maxDepth) continue;
      if (findRoot(group) === findRoot(this.groups[sink.index]!)) continue;
      if (group.pattern === OUT_EWISE) {
        // matmul/conv: into an elementwise consumer, through broadcast nodes.
        if (phase !== 0 || d.pattern !== ELEMWISE) continue;
        if (this.checkPath(node, sink, (k) => k <= BROADCAST)) this.commit(node, sink);
      } else if (group.pattern <= BROADCAST) {
        if (d.pattern > INJECTIVE && d.pattern !== REDUCE) continue;
        const ok = this.checkPath(
          node,
          sink,
          (k, isSink) =>
            isSink ? k <= INJECTIVE || k === REDUCE || k === OUT_EWISE : k <= INJECTIVE,
        );
        if (ok) this.commit(node, sink);
      } else if (group.pattern === INJECTIVE) {
        // Injective fusion waits for phase 1, so out-elemwise-fusable groups form first.
        if (phase !== 1) continue;
        if (this.checkPath(node, sink, (k) => k <= INJECTIVE)) this.commit(node, sink);
      }
      // Reductions do not fuse into their consumers.
    }
  }
}

/** Partitions the graph into groups; returns each node's group (by node index). */
export function partitionGraph(graph: ForwardGraph, options: PartitionOptions): Group[] {
  const p = new Partitioner(graph, options.maxDepth);
  if (options.optLevel === 0) return p.groups;
  const dom = postDominators(graph);
  // TVM's third phase only fuses into tuples, which Relax never forms here.
  for (const phase of [0, 1]) p.run(dom, phase);
  return p.groups;
}

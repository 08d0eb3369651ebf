/**
 * The metadata section of TVMScript text: large constants printed out of line as
 * `metadata["relax.expr.Constant"][i]` and defined at the end of the text by
 *
 * ```
 * metadata = {"relax.expr.Constant": [{"dtype": "float32", "shape": [2, 3], "data": "<base64>"}]}
 * ```
 *
 * where `data` holds the elements' little-endian bytes in base64.
 *
 * @module
 */

import { allocTypedArray, dtypeBytes, parseDType } from "../../ir/dtype.ts";
import { constantTensor, type Expr } from "../../ir/relax/expr.ts";
import type { ExprNode, Located } from "./ast.ts";
import type { ParseContext } from "./context.ts";

/** A JSON-like value read from the metadata literal. */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Reads a dict/list/str/number literal (JSON spellings `true`/`false`/`null` allowed). */
function toJson(ctx: ParseContext, e: ExprNode): Json {
  switch (e.kind) {
    case "Constant":
      return e.value;
    case "Name":
      if (e.id === "true" || e.id === "false") return e.id === "true";
      if (e.id === "null") return null;
      break;
    case "UnaryOp":
      if (e.op === "-" && e.operand.kind === "Constant" && typeof e.operand.value === "number") {
        return -e.operand.value;
      }
      break;
    case "List":
    case "Tuple":
      return e.elts.map((x) => toJson(ctx, x));
    case "Dict": {
      const out: { [k: string]: Json } = {};
      e.keys.forEach((k, i) => {
        if (k.kind !== "Constant" || typeof k.value !== "string") {
          ctx.fail("Metadata keys must be strings", k);
        } else out[k.value] = toJson(ctx, e.values[i]!);
      });
      return out;
    }
    case "Call":
      if (
        e.args.length === 1 && e.args[0]!.kind === "Constant" &&
        typeof e.args[0]!.value === "string"
      ) {
        ctx.fail("Metadata in TVM's JSON graph format is not supported", e);
      }
      break;
    default:
      break;
  }
  return ctx.fail("Expected a metadata literal", e);
}

/** Constants of the metadata section, by kind. */
export class Metadata {
  private readonly parsed = new Map<string, Expr[]>();

  /** Reads the section from the value of `metadata = ...`, or an empty section. */
  constructor(private readonly ctx: ParseContext, private readonly node: ExprNode | undefined) {
    if (!node) return;
    const j = toJson(ctx, node);
    if (typeof j !== "object" || j === null || Array.isArray(j)) {
      ctx.fail("Expected the metadata section to be a dict", node);
    }
    const consts = (j as { [k: string]: Json })["relax.expr.Constant"];
    if (consts === undefined) return;
    if (!Array.isArray(consts)) {
      ctx.fail('Expected metadata["relax.expr.Constant"] to be a list', node);
    }
    this.parsed.set(
      "relax.expr.Constant",
      (consts as Json[]).map((c, i) => ctx.guard(node, () => decodeConstant(c, i))),
    );
  }

  /** The entry `kind`/`index`, reporting a missing one at `at`. */
  get(kind: string, index: number, at: Located): Expr {
    const list = this.parsed.get(kind);
    if (!list) {
      return this.ctx.fail(
        this.node
          ? `The metadata section has no "${kind}" entries`
          : "The text refers to metadata but has no metadata section",
        at,
      );
    }
    const e = list[index];
    if (!e) {
      return this.ctx.fail(`Metadata "${kind}" has no entry ${index} (it has ${list.length})`, at);
    }
    return e;
  }
}

function decodeConstant(c: Json, i: number): Expr {
  if (typeof c !== "object" || c === null || Array.isArray(c)) {
    throw new Error(`Metadata constant ${i} must be a dict with dtype, shape and data`);
  }
  const { dtype, shape, data } = c as { [k: string]: Json };
  if (typeof dtype !== "string") throw new Error(`Metadata constant ${i} needs a dtype string`);
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)
  ) {
    throw new Error(`Metadata constant ${i} needs a shape list of non-negative integers`);
  }
  if (typeof data !== "string") throw new Error(`Metadata constant ${i} needs base64 data`);
  const t = parseDType(dtype);
  const dims = shape as number[];
  const n = dims.reduce((a, b) => a * b, 1);
  let bytes: Uint8Array;
  try {
    const bin = atob(data);
    bytes = new Uint8Array(bin.length);
    for (let k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
  } catch {
    throw new Error(`Metadata constant ${i} has invalid base64 data`);
  }
  const arr = allocTypedArray(t, n);
  const need = n * dtypeBytes(t);
  if (bytes.length !== need) {
    throw new Error(
      `Metadata constant ${i} of shape (${
        dims.join(", ")
      }) needs ${need} bytes, got ${bytes.length}`,
    );
  }
  new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).set(bytes);
  return constantTensor({ dtype: t, shape: dims, data: arr });
}

/**
 * `FuseTIR`: turns every Relax function with the `Primitive` attribute (as `FuseOps` makes
 * them) into one PrimFunc, and each call of it into one `call_tir`.
 *
 * The PrimFuncs the function calls are inlined in order into one root block: the function's
 * tensor parameters become buffer parameters of the same names, the value of each intermediate
 * call becomes a buffer allocated in the root block (`<output>_intermediate`), the function's
 * results become output buffers, and its shape parameter (`tir_vars`) becomes trailing scalar
 * parameters. The callees' symbolic shapes are matched against the arguments'; duplicate block
 * names get numbered. The PrimFunc keeps the function's name (`fused_matmul_add_relu`), and
 * dead-code elimination then removes the callees nothing else uses.
 *
 * @module
 */

import { displayNode } from "../../ir/display.ts";
import { type Buffer, declBuffer, type PrimExpr, primVar, type Var } from "../../ir/expr.ts";
import type { IRModule } from "../../ir/module.ts";
import { withFunction } from "../../ir/module.ts";
import {
  type Expr,
  type Function,
  globalVar,
  isVar,
  type RCall,
  type SeqExpr,
} from "../../ir/relax/expr.ts";
import { callTIR } from "../../ir/relax/op/call.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import { type PrimFunc, primFuncRaw } from "../../ir/tir/prim_func.ts";
import { sblock, sblockRealize, seq, type Stmt } from "../../ir/tir/stmt.ts";
import { rewriteExpr, rewritePrimExpr, rewriteStructInfo } from "../../ir/visit.ts";
import { modulePass, type Pass } from "../pass.ts";
import { eliminateDeadCode } from "./dead_code_elimination.ts";
import { isCallTIR } from "./_fuse_function.ts";
import {
  BufferSubstitutor,
  dedupBlockNames,
  renewDefs,
  SymbolicMatcher,
} from "./_fuse_tir_util.ts";
import { isNonzeroAttr } from "./_graph.ts";
import { sinfoVars } from "./_relax_util.ts";

/** Builds the fused PrimFunc of one primitive Relax function. */
class FusedTIRBuilder {
  readonly #bufs = new Map<Expr, Buffer[]>();
  readonly #inputs: Var[] = [];
  readonly #scalars: Var[] = [];
  readonly #bufferMap = new Map<Var, Buffer>();
  readonly #allocs: Buffer[] = [];
  readonly #bodies: Stmt[] = [];
  readonly #subst = new Map<Buffer, Buffer>();
  readonly #matcher = new SymbolicMatcher();

  constructor(readonly mod: IRModule, readonly name: string) {}

  #fail(msg: string): never {
    throw new Error(`FuseTIR: ${msg} in primitive function "${this.name}"`);
  }

  build(f: Function): PrimFunc {
    for (const p of f.params) this.#param(p.name, p.structInfo, p);
    const body = f.body as SeqExpr;
    for (const block of body.blocks) {
      for (const b of block.bindings) {
        if (b.kind === "MatchCast") this.#fail("match_cast is not supported");
        this.#bufs.set(b.var, this.#value(b.value));
      }
    }
    const results = this.#value(body.body);
    const inputBufs = new Set(this.#bufferMap.values());
    const outputs: Var[] = [];
    const outBufs = new Set<Buffer>();
    for (const buf of results) {
      if (inputBufs.has(buf)) {
        this.#fail(`the result "${buf.name}" is a parameter; in-place results are not supported`);
      }
      const h = primVar(`p_output${outputs.length}`, "handle");
      outputs.push(h);
      this.#bufferMap.set(h, buf);
      outBufs.add(buf);
    }
    const sub = new BufferSubstitutor(this.#subst, this.#matcher.remap);
    const allocs = this.#allocs.filter((b) => !outBufs.has(b)).map((b) => sub.buffer(b));
    const stmt = sub.stmt(dedupBlockNames(seq(...this.#bodies)));
    const root = sblockRealize([], sblock("root", stmt, { allocBuffers: allocs }));
    const prim = primFuncRaw(
      [...this.#inputs, ...outputs, ...this.#scalars],
      this.#bufferMap,
      root,
      {
        attrs: { "tir.noalias": true },
        isPrivate: true,
      },
    );
    // Fresh variables, so that the kernel shares none with the Relax functions.
    return renewDefs(prim);
  }

  #param(name: string, s: StructInfo, p: Expr): void {
    switch (s.kind) {
      case "TensorStructInfo": {
        if (!s.shape || s.dtype === "void") {
          this.#fail(`parameter "${name}" must be a tensor of known shape and dtype`);
        }
        const buf = declBuffer(s.shape, s.dtype, name);
        const h = primVar(`p_${name}`, "handle");
        this.#inputs.push(h);
        this.#bufferMap.set(h, buf);
        this.#bufs.set(p, [buf]);
        return;
      }
      case "ShapeStructInfo":
        for (const v of s.values ?? []) {
          if (v.kind !== "Var") this.#fail(`shape parameter "${name}" must hold variables only`);
          this.#scalars.push(v);
        }
        return;
      case "TupleStructInfo":
        return this.#fail(`parameter "${name}" is a tuple; tuple parameters are not supported`);
      default:
        this.#fail(`parameter "${name}" must be a tensor or a shape`);
    }
  }

  #value(e: Expr): Buffer[] {
    if (isVar(e)) {
      const b = this.#bufs.get(e);
      if (!b) this.#fail(`"${e.name}" is not a tensor defined in the function`);
      return b;
    }
    switch (e.kind) {
      case "relax.Call":
        if (!isCallTIR(e)) break;
        return this.#callTIR(e);
      case "relax.Tuple":
        return e.fields.flatMap((x) => this.#value(x));
      case "relax.TupleGetItem": {
        const all = this.#value(e.tuple);
        const s = e.tuple.structInfo;
        if (s.kind !== "TupleStructInfo") break;
        const begin = s.fields.slice(0, e.index).reduce((n, x) => n + tensorCount(x), 0);
        return all.slice(begin, begin + tensorCount(s.fields[e.index]!));
      }
      case "relax.Constant":
        this.#fail("constants are not supported (bind them as parameters)");
    }
    this.#fail(`unsupported value ${displayNode(e)}`);
  }

  #callTIR(call: RCall): Buffer[] {
    const gv = call.args[0];
    const callee = gv?.kind === "GlobalVar" ? this.mod.functions.get(gv.name) : undefined;
    if (!callee || callee.kind !== "PrimFunc") {
      const n = gv?.kind === "GlobalVar" ? `"${gv.name}"` : "callee";
      this.#fail(`call_tir ${n} is not a PrimFunc of the module`);
    }
    const gname = (gv as { name: string }).name;
    const f = renewDefs(callee);
    if (f.body.kind !== "SBlockRealize") {
      this.#fail(`"${gname}" cannot be fused: only PrimFuncs whose body is the root block can`);
    }
    const root = f.body.block;
    this.#allocs.push(...root.allocBuffers);
    this.#bodies.push(root.body);
    const tup = call.args[1];
    const args = tup?.kind === "relax.Tuple"
      ? tup.fields
      : this.#fail("call_tir arguments must be a tuple");
    const outSInfo = call.sinfoArgs[0];
    const outs = outSInfo?.kind === "TupleStructInfo"
      ? outSInfo.fields
      : outSInfo
      ? [outSInfo]
      : [];
    if (f.params.length < args.length + outs.length) {
      this.#fail(
        `"${gname}" takes ${f.params.length} parameters, but is called with ${args.length} arguments and ${outs.length} outputs`,
      );
    }
    args.forEach((a, i) => {
      const p = f.params[i]!;
      const b = f.bufferMap.get(p);
      if (b) {
        const target = this.#value(a);
        if (target.length !== 1) this.#fail(`argument ${i} of "${gname}" must be a single tensor`);
        this.#matcher.matchAll(b.shape, target[0]!.shape, `buffer "${b.name}" of "${gname}"`);
        this.#subst.set(b, target[0]!);
      } else if (a.kind === "relax.PrimValue") {
        this.#matcher.match(p, a.value);
      } else {
        this.#fail(`scalar parameter "${p.name}" of "${gname}" must receive a prim value`);
      }
    });
    const results = outs.map((s, k) => {
      const p = f.params[args.length + k]!;
      const b = f.bufferMap.get(p);
      if (!b) this.#fail(`output parameter ${args.length + k} of "${gname}" is not a buffer`);
      if (s.kind !== "TensorStructInfo" || !s.shape) {
        this.#fail(`the outputs of "${gname}" must be tensors of known shape`);
      }
      const buf = declBuffer(s.shape, b.dtype, this.#uniqueName(`${b.name}_intermediate`), {
        scope: b.scope,
      });
      this.#allocs.push(buf);
      this.#matcher.matchAll(b.shape, buf.shape, `buffer "${b.name}" of "${gname}"`);
      this.#subst.set(b, buf);
      return buf;
    });
    const tirVars = call.args[2];
    if (tirVars) {
      const values = tirVars.kind === "relax.ShapeExpr"
        ? tirVars.values
        : tirVars.structInfo.kind === "ShapeStructInfo" && tirVars.structInfo.values
        ? tirVars.structInfo.values
        : this.#fail("call_tir tir_vars must be a shape of known values");
      const rest = f.params.slice(args.length + outs.length);
      if (rest.length !== values.length) {
        this.#fail(
          `"${gname}" takes ${rest.length} scalar parameters, but tir_vars has ${values.length}`,
        );
      }
      rest.forEach((p, i) => this.#matcher.match(p, values[i]!));
    }
    return results;
  }

  #uniqueName(base: string): string {
    const names = new Set(this.#allocs.map((b) => b.name));
    let name = base;
    for (let i = 1; names.has(name); i++) name = `${base}_${i}`;
    return name;
  }
}

function tensorCount(s: StructInfo): number {
  return s.kind === "TupleStructInfo" ? s.fields.reduce((n, f) => n + tensorCount(f), 0) : 1;
}

/** Binds the symbolic variables that `param` defines to the matching parts of `arg`. */
function bindSInfo(param: StructInfo, arg: StructInfo, out: Map<Var, PrimExpr>): void {
  const dims = (ps: readonly PrimExpr[] | undefined, as: readonly PrimExpr[] | undefined) => {
    if (!ps || !as || ps.length !== as.length) return;
    ps.forEach((p, i) => {
      if (p.kind === "Var" && !out.has(p)) out.set(p, as[i]!);
    });
  };
  if (param.kind === "TensorStructInfo" && arg.kind === "TensorStructInfo") {
    dims(param.shape, arg.shape);
  } else if (param.kind === "ShapeStructInfo" && arg.kind === "ShapeStructInfo") {
    dims(param.values, arg.values);
  } else if (param.kind === "TupleStructInfo" && arg.kind === "TupleStructInfo") {
    param.fields.forEach((p, i) => arg.fields[i] && bindSInfo(p, arg.fields[i]!, out));
  }
}

/** The StructInfo of a call of `f` on `args`: its return info in the caller's variables. */
function callResult(f: Function, call: RCall): StructInfo {
  const map = new Map<Var, PrimExpr>();
  f.params.forEach((p, i) =>
    call.args[i] && bindSInfo(p.structInfo, call.args[i]!.structInfo, map)
  );
  const ret = rewriteStructInfo(
    f.retStructInfo,
    (e) => rewritePrimExpr(e, { expr: (x) => (x.kind === "Var" ? map.get(x) : undefined) }),
  );
  const resolved = sinfoVars(f.retStructInfo).every((v) => map.has(v));
  return resolved ? ret : call.structInfo;
}

/** The `call_tir` replacing a call of primitive function `name` (now a PrimFunc). */
function rewriteCall(call: RCall, name: string, f: Function): Expr {
  const tensors: Expr[] = [];
  const tirVars: PrimExpr[] = [];
  call.args.forEach((a, i) => {
    const s = a.structInfo;
    if (s.kind === "ShapeStructInfo") {
      if (!s.values) {
        throw new Error(
          `FuseTIR: argument ${i} of the call of "${name}" must be a shape of known values`,
        );
      }
      tirVars.push(...s.values);
    } else {
      tensors.push(a);
    }
  });
  const out = callResult(f, call);
  return callTIR(globalVar(name), tensors, out, tirVars.length > 0 ? { tirVars } : {});
}

/** Runs `FuseTIR` on a module (see {@link fuseTIR}). */
export function fuseTIRModule(mod: IRModule): IRModule {
  const primitives = new Map<string, Function>();
  for (const [n, f] of mod.functions) {
    if (f.kind === "relax.Function" && isNonzeroAttr(f.attrs["Primitive"])) primitives.set(n, f);
  }
  let out = mod;
  for (const [n, f] of primitives) out = withFunction(out, n, new FusedTIRBuilder(mod, n).build(f));
  if (primitives.size > 0) {
    for (const [n, f] of out.functions) {
      if (f.kind !== "relax.Function") continue;
      const body = rewriteExpr(f.body, {
        expr: (e) => {
          if (e.kind !== "relax.Call" || e.op.kind !== "GlobalVar") return undefined;
          const prim = primitives.get(e.op.name);
          return prim ? rewriteCall(e, e.op.name, prim) : undefined;
        },
      });
      if (body !== f.body) out = withFunction(out, n, { ...f, body });
    }
  }
  return eliminateDeadCode(out);
}

/**
 * The `FuseTIR` pass (see the module documentation), followed by dead-code elimination as in
 * TVM. Returns the module itself when it has no primitive function and no dead code.
 */
export function fuseTIR(): Pass {
  return modulePass("FuseTIR", (mod) => fuseTIRModule(mod));
}

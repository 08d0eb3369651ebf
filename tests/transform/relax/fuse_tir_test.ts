import assert from "node:assert/strict";
import { fuseTIR } from "../../../transform/relax/fuse_tir.ts";
import { fuseOps } from "../../../transform/relax/fuse_ops.ts";
import { annotateTIROpPattern } from "../../../transform/relax/annotate_tir_op_pattern.ts";
import { sequential } from "../../../transform/pass.ts";
import { add, matmul, rt, twoOutputs, unary } from "./_kernels.ts";
import { assertWellFormed, checkNoOp, checkPass, parse } from "./_graph_pass_helpers.ts";
import { assertClose, evalRelax, randomTensor } from "./_relax_eval.ts";
import { BlockBuilder } from "../../../ir/relax/block_builder.ts";
import * as R from "../../../ir/relax/r.ts";
import * as te from "../../../ir/te/mod.ts";
import { withFunction } from "../../../ir/module.ts";
import type { Function } from "../../../ir/relax/expr.ts";
import { rewriteFunction } from "../../../ir/visit.ts";

function mod(...parts: string[]): string {
  return `
@I.ir_module
class Module:
${parts.join("\n")}`;
}

const T48 = rt([4, 8]);
const B48 = `T.Buffer((T.int64(4), T.int64(8)), "float32")`;
const EXP = unary("exp", [4, 8], "T.exp(X)");
const RELU = unary("relu", [4, 8], "T.max(X, T.float32(0.0))");
const ADD = add("add", [4, 8]);

const fuseAll = sequential([annotateTIROpPattern(), fuseOps(), fuseTIR()]);

Deno.test("FuseTIR: an elementwise group becomes one PrimFunc with an intermediate buffer", () => {
  checkPass(
    fuseTIR(),
    mod(
      ADD,
      EXP,
      `
    @R.function(private=True)
    def fused_add_exp(x: ${T48}, y: ${T48}) -> ${T48}:
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.add, (x, y), out_sinfo=${T48})
            gv = R.call_tir(cls.exp, (lv,), out_sinfo=${T48})
            R.output(gv)
        return gv

    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv: ${T48} = cls.fused_add_exp(x, y)
            R.output(gv)
        return gv`,
    ),
    mod(`
    @T.prim_func(private=True)
    def fused_add_exp(x: ${B48}, y: ${B48}, compute_intermediate: ${B48}):
        T.func_attr({"tir.noalias": True})
        T_add_intermediate = T.sblock_alloc_buffer((T.int64(4), T.int64(8)))
        for i0, i1 in T.grid(T.int64(4), T.int64(8)):
            with T.sblock("T_add"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(x[v_i0, v_i1], y[v_i0, v_i1])
                T.writes(T_add_intermediate[v_i0, v_i1])
                T_add_intermediate[v_i0, v_i1] = x[v_i0, v_i1] + y[v_i0, v_i1]
        for i0, i1 in T.grid(T.int64(4), T.int64(8)):
            with T.sblock("compute"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(T_add_intermediate[v_i0, v_i1])
                T.writes(compute_intermediate[v_i0, v_i1])
                compute_intermediate[v_i0, v_i1] = T.exp(T_add_intermediate[v_i0, v_i1])

    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.fused_add_exp, (x, y), out_sinfo=${T48})
            R.output(gv)
        return gv`),
  );
});

const MLP = mod(
  matmul("matmul", 4, 16, 8),
  add("add", [4, 8], true),
  RELU,
  `
    @R.function
    def main(x: ${rt([4, 16])}, w: ${rt([16, 8])}, b: ${rt([8])}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.matmul, (x, w), out_sinfo=${T48})
            lv1 = R.call_tir(cls.add, (lv, b), out_sinfo=${T48})
            gv = R.call_tir(cls.relu, (lv1,), out_sinfo=${T48})
            R.output(gv)
        return gv`,
);

Deno.test("FuseTIR: a fused MLP layer is one kernel (matmul, bias add, relu)", () => {
  // The expected module is the TVMScript printer's fixture of what TVM's FuseTIR prints.
  const want = Deno.readTextFileSync(
    new URL("../../script/fixtures/relax_fuse_tir_output.py", import.meta.url),
  );
  const out = checkPass(fuseAll, MLP, want);
  assert.deepEqual([...out.functions.keys()].sort(), ["fused_matmul_add_relu", "main"]);
});

Deno.test("FuseTIR: a kernel used twice is inlined twice, with numbered block names", () => {
  checkPass(
    fuseTIR(),
    mod(
      EXP,
      RELU,
      ADD,
      `
    @R.function(private=True)
    def fused_exp_relu_exp_add(x: ${T48}) -> ${T48}:
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            lv1 = R.call_tir(cls.relu, (lv,), out_sinfo=${T48})
            lv2 = R.call_tir(cls.exp, (lv,), out_sinfo=${T48})
            gv = R.call_tir(cls.add, (lv1, lv2), out_sinfo=${T48})
            R.output(gv)
        return gv

    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv: ${T48} = cls.fused_exp_relu_exp_add(x)
            R.output(gv)
        return gv`,
    ),
    mod(`
    @T.prim_func(private=True)
    def fused_exp_relu_exp_add(x: ${B48}, T_add_intermediate: ${B48}):
        T.func_attr({"tir.noalias": True})
        compute_intermediate = T.sblock_alloc_buffer((T.int64(4), T.int64(8)))
        compute_intermediate_1 = T.sblock_alloc_buffer((T.int64(4), T.int64(8)))
        compute_intermediate_2 = T.sblock_alloc_buffer((T.int64(4), T.int64(8)))
        for i0, i1 in T.grid(T.int64(4), T.int64(8)):
            with T.sblock("compute"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(x[v_i0, v_i1])
                T.writes(compute_intermediate[v_i0, v_i1])
                compute_intermediate[v_i0, v_i1] = T.exp(x[v_i0, v_i1])
        for i0, i1 in T.grid(T.int64(4), T.int64(8)):
            with T.sblock("compute1"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(compute_intermediate[v_i0, v_i1])
                T.writes(compute_intermediate_1[v_i0, v_i1])
                compute_intermediate_1[v_i0, v_i1] = T.max(compute_intermediate[v_i0, v_i1], T.float32(0.0))
        for i0, i1 in T.grid(T.int64(4), T.int64(8)):
            with T.sblock("compute2"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(compute_intermediate[v_i0, v_i1])
                T.writes(compute_intermediate_2[v_i0, v_i1])
                compute_intermediate_2[v_i0, v_i1] = T.exp(compute_intermediate[v_i0, v_i1])
        for i0, i1 in T.grid(T.int64(4), T.int64(8)):
            with T.sblock("T_add"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(compute_intermediate_1[v_i0, v_i1], compute_intermediate_2[v_i0, v_i1])
                T.writes(T_add_intermediate[v_i0, v_i1])
                T_add_intermediate[v_i0, v_i1] = compute_intermediate_1[v_i0, v_i1] + compute_intermediate_2[v_i0, v_i1]

    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.fused_exp_relu_exp_add, (x,), out_sinfo=${T48})
            R.output(gv)
        return gv`),
  );
});

const SYM_EXP = `
    @T.prim_func(private=True)
    def exp(var_A: T.handle, var_compute: T.handle):
        T.func_attr({"op_pattern": 0, "tir.noalias": True})
        n = T.int64()
        A = T.match_buffer(var_A, (n, T.int64(4)))
        compute = T.match_buffer(var_compute, (n, T.int64(4)))
        for i0, i1 in T.grid(n, T.int64(4)):
            with T.sblock("compute"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(A[v_i0, v_i1])
                T.writes(compute[v_i0, v_i1])
                compute[v_i0, v_i1] = T.exp(A[v_i0, v_i1])
`;

Deno.test("FuseTIR: symbolic kernels called on symbolic and static shapes", () => {
  const TM = `R.Tensor((m, 4), dtype="float32")`;
  const T84 = rt([8, 4]);
  checkPass(
    fuseTIR(),
    mod(
      SYM_EXP,
      `
    @R.function(private=True)
    def fused_exp_exp(x: ${TM}) -> ${TM}:
        m = T.int64()
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${TM})
            gv = R.call_tir(cls.exp, (lv,), out_sinfo=${TM})
            R.output(gv)
        return gv

    @R.function(private=True)
    def fused_exp_exp1(x: ${T84}) -> ${T84}:
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${T84})
            gv = R.call_tir(cls.exp, (lv,), out_sinfo=${T84})
            R.output(gv)
        return gv

    @R.function
    def main(x: ${TM}, y: ${T84}) -> R.Tuple(${TM}, ${T84}):
        m = T.int64()
        cls = Module
        with R.dataflow():
            gv: ${TM} = cls.fused_exp_exp(x)
            gv1: ${T84} = cls.fused_exp_exp1(y)
            R.output(gv, gv1)
        return (gv, gv1)`,
    ),
    mod(`
    @T.prim_func(private=True)
    def fused_exp_exp(p_x: T.handle, p_output0: T.handle):
        T.func_attr({"tir.noalias": True})
        m = T.int64()
        x = T.match_buffer(p_x, (m, T.int64(4)))
        compute_intermediate = T.match_buffer(p_output0, (m, T.int64(4)))
        compute_intermediate_1 = T.sblock_alloc_buffer((m, T.int64(4)))
        for i0, i1 in T.grid(m, T.int64(4)):
            with T.sblock("compute"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(x[v_i0, v_i1])
                T.writes(compute_intermediate_1[v_i0, v_i1])
                compute_intermediate_1[v_i0, v_i1] = T.exp(x[v_i0, v_i1])
        for i0, i1 in T.grid(m, T.int64(4)):
            with T.sblock("compute1"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(compute_intermediate_1[v_i0, v_i1])
                T.writes(compute_intermediate[v_i0, v_i1])
                compute_intermediate[v_i0, v_i1] = T.exp(compute_intermediate_1[v_i0, v_i1])

    @T.prim_func(private=True)
    def fused_exp_exp1(x: T.Buffer((T.int64(8), T.int64(4)), "float32"), compute_intermediate: T.Buffer((T.int64(8), T.int64(4)), "float32")):
        T.func_attr({"tir.noalias": True})
        compute_intermediate_1 = T.sblock_alloc_buffer((T.int64(8), T.int64(4)))
        for i0, i1 in T.grid(T.int64(8), T.int64(4)):
            with T.sblock("compute"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(x[v_i0, v_i1])
                T.writes(compute_intermediate_1[v_i0, v_i1])
                compute_intermediate_1[v_i0, v_i1] = T.exp(x[v_i0, v_i1])
        for i0, i1 in T.grid(T.int64(8), T.int64(4)):
            with T.sblock("compute1"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(compute_intermediate_1[v_i0, v_i1])
                T.writes(compute_intermediate[v_i0, v_i1])
                compute_intermediate[v_i0, v_i1] = T.exp(compute_intermediate_1[v_i0, v_i1])

    @R.function
    def main(x: ${TM}, y: ${T84}) -> R.Tuple(${TM}, ${T84}):
        m = T.int64()
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.fused_exp_exp, (x,), out_sinfo=${TM})
            gv1 = R.call_tir(cls.fused_exp_exp1, (y,), out_sinfo=${T84})
            R.output(gv, gv1)
        return (gv, gv1)`),
  );
});

Deno.test("FuseTIR: a group with two results makes a two-output kernel", () => {
  const out = checkPass(
    fuseTIR(),
    mod(
      EXP,
      RELU,
      `
    @R.function(private=True)
    def fused_exp_relu(x: ${T48}) -> R.Tuple(${T48}, ${T48}):
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            gv = R.call_tir(cls.relu, (lv,), out_sinfo=${T48})
            R.output(lv, gv)
        return (lv, gv)

    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv: R.Tuple(${T48}, ${T48}) = cls.fused_exp_relu(x)
            lv1: ${T48} = lv[0]
            gv: ${T48} = lv[1]
            R.output(gv)
        return gv`,
    ),
    mod(`
    @T.prim_func(private=True)
    def fused_exp_relu(x: ${B48}, compute_intermediate: ${B48}, compute_intermediate_1: ${B48}):
        T.func_attr({"tir.noalias": True})
        for i0, i1 in T.grid(T.int64(4), T.int64(8)):
            with T.sblock("compute"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(x[v_i0, v_i1])
                T.writes(compute_intermediate[v_i0, v_i1])
                compute_intermediate[v_i0, v_i1] = T.exp(x[v_i0, v_i1])
        for i0, i1 in T.grid(T.int64(4), T.int64(8)):
            with T.sblock("compute1"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(compute_intermediate[v_i0, v_i1])
                T.writes(compute_intermediate_1[v_i0, v_i1])
                compute_intermediate_1[v_i0, v_i1] = T.max(compute_intermediate[v_i0, v_i1], T.float32(0.0))

    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.fused_exp_relu, (x,), out_sinfo=[${T48}, ${T48}])
            gv: ${T48} = lv[1]
            R.output(gv)
        return gv`),
  );
  assertWellFormed(out);
});

Deno.test("FuseTIR: returns the same module when there is nothing to fuse", () => {
  checkNoOp(
    fuseTIR(),
    mod(
      EXP,
      `
    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            R.output(gv)
        return gv`,
    ),
  );
});

Deno.test("FuseTIR: fused modules compute what the originals compute", () => {
  const before = parse(MLP);
  const args = [randomTensor([4, 16], 4), randomTensor([16, 8], 5), randomTensor([8], 6)];
  const after = fuseAll(before);
  assertClose(evalRelax(after, "main", args), evalRelax(before, "main", args));
  const sym = parse(mod(
    SYM_EXP,
    unary("relu", [7, 4], "T.max(X, T.float32(0.0))"),
    `
    @R.function
    def main(x: R.Tensor((7, 4), dtype="float32")) -> R.Tensor((7, 4), dtype="float32"):
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=R.Tensor((7, 4), dtype="float32"))
            gv = R.call_tir(cls.relu, (lv,), out_sinfo=R.Tensor((7, 4), dtype="float32"))
            R.output(gv)
        return gv`,
  ));
  const symAfter = fuseAll(sym);
  assert.equal([...symAfter.functions.values()].filter((f) => f.kind === "PrimFunc").length, 1);
  const x = [randomTensor([7, 4], 7)];
  assertClose(evalRelax(symAfter, "main", x), evalRelax(sym, "main", x));
});

Deno.test("FuseTIR: a multi-output kernel and its tuple fields fuse into one kernel", () => {
  const before = parse(mod(
    twoOutputs("split", 4, 8, 2),
    EXP,
    ADD,
    `
    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.split, (x,), out_sinfo=[${T48}, ${T48}])
            a = lv[0]
            b = lv[1]
            c = R.call_tir(cls.exp, (a,), out_sinfo=${T48})
            d = R.call_tir(cls.exp, (b,), out_sinfo=${T48})
            gv = R.call_tir(cls.add, (c, d), out_sinfo=${T48})
            R.output(gv)
        return gv`,
  ));
  const after = fuseAll(before);
  assertWellFormed(after);
  assert.deepEqual([...after.functions.keys()].sort(), ["fused_split_exp_exp_add", "main"]);
  const x = [randomTensor([4, 8], 11)];
  assertClose(evalRelax(after, "main", x), evalRelax(before, "main", x));
});

Deno.test("FuseTIR: a 3-layer MLP built with BlockBuilder and te is one kernel per layer", () => {
  const bb = new BlockBuilder();
  const dims = [12, 10, 8, 6];
  const x = R.tensor([3, dims[0]!], "float32", "x");
  const ws = [0, 1, 2].map((i) => R.tensor([dims[i]!, dims[i + 1]!], "float32", `w${i}`));
  const bs = [0, 1, 2].map((i) => R.tensor([dims[i + 1]!], "float32", `b${i}`));
  bb.function("main", [x, ...ws, ...bs], () =>
    bb.dataflow(() => {
      let h = x as Parameters<typeof bb.emitTe>[1][number];
      for (let i = 0; i < 3; i++) {
        const mm = bb.emitTe(
          (a, w) => {
            const k = te.reduceAxis([0, a.shape[1]!], "k");
            return te.compute(
              [a.shape[0]!, w.shape[1]!],
              ([r, c]) => te.sum(a.at(r, k).mul(w.at(k, c)), [k]),
              {
                name: "matmul",
              },
            );
          },
          [h, ws[i]!],
          { name: "matmul" },
        );
        const biased = bb.emitTe(
          (a, b) =>
            te.compute([a.shape[0]!, a.shape[1]!], ([r, c]) => a.at(r, c).add(b.at(c)), {
              name: "T_add",
            }),
          [mm, bs[i]!],
          { name: "add" },
        );
        const relu = (a: te.Tensor) =>
          te.compute([a.shape[0]!, a.shape[1]!], ([r, c]) => te.maximum(a.at(r, c), 0), {
            name: "relu",
          });
        h = i === 2
          ? bb.emitOutput(bb.callTe(relu, [biased], { name: "relu" }))
          : bb.emitTe(relu, [biased], { name: "relu" });
      }
      return h;
    }));
  const before = bb.get();
  const after = fuseAll(before);
  assertWellFormed(after);
  const kernels = [...after.functions].filter(([, f]) => f.kind === "PrimFunc").map(([n]) => n);
  assert.equal(kernels.length, 3, kernels.join(", "));
  assert.ok(kernels.every((n) => n.startsWith("fused_matmul")), kernels.join(", "));
  const args = [
    randomTensor([3, 12], 1),
    ...[0, 1, 2].map((i) => randomTensor([dims[i]!, dims[i + 1]!], 10 + i)),
    ...[0, 1, 2].map((i) => randomTensor([dims[i + 1]!], 20 + i)),
  ];
  assertClose(evalRelax(after, "main", args), evalRelax(before, "main", args));
});

function primitive(
  body: string,
  params = `x: ${T48}`,
  extra = "",
  call = "cls.fused_f(x)",
  mainParams = `x: ${T48}`,
): string {
  return mod(
    EXP,
    extra,
    `
    @R.function(private=True)
    def fused_f(${params}) -> ${T48}:
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
${body}
        return gv

    @R.function
    def main(${mainParams}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv: ${T48} = ${call}
            R.output(gv)
        return gv`,
  );
}

/** A kernel with a scalar parameter `s` of `dtype` between its input and output. */
function scalarKernel(dtype: string): string {
  return `
    @T.prim_func(private=True)
    def scal(A: ${B48}, s: T.${dtype}, B: ${B48}):
        for i, j in T.grid(T.int64(4), T.int64(8)):
            with T.sblock("B"):
                vi, vj = T.axis.remap("SS", [i, j])
                B[vi, vj] = A[vi, vj] * T.Cast("float32", s)
`;
}

function ret(call: string): string {
  return `            gv = ${call}\n            R.output(gv)`;
}

Deno.test("FuseTIR: errors name the problem", () => {
  const fails = (text: string, message: string | RegExp) =>
    assert.throws(() => fuseTIR()(parse(text)), { message });
  const inF = ' in primitive function "fused_f"';
  const callExp = `R.call_tir(cls.exp, (x,), out_sinfo=${T48})`;
  fails(
    primitive(`            gv = R.match_cast(x, ${T48})\n            R.output(gv)`),
    `FuseTIR: match_cast is not supported${inF}`,
  );
  fails(
    primitive(ret(callExp), `x: R.Tuple(${T48})`),
    `FuseTIR: parameter "x" is a tuple; tuple parameters are not supported${inF}`,
  );
  fails(
    primitive(ret(callExp), `x: R.Tensor(dtype="float32", ndim=2)`),
    `FuseTIR: parameter "x" must be a tensor of known shape and dtype${inF}`,
  );
  fails(
    primitive(ret(callExp), `x: ${T48}, s: R.Object`, "", "cls.fused_f(x, x)"),
    `FuseTIR: parameter "s" must be a tensor or a shape${inF}`,
  );
  fails(
    primitive(ret(callExp), `x: ${T48}, s: R.Shape([3 * 4])`, "", "cls.fused_f(x, R.shape([12]))"),
    `FuseTIR: shape parameter "s" must hold variables only${inF}`,
  );
  fails(
    primitive(
      ret(`R.call_tir(cls.exp, (s,), out_sinfo=${T48})`),
      `x: ${T48}, s: R.Shape(ndim=1)`,
      "",
      "cls.fused_f(x, R.shape([1]))",
    ),
    `FuseTIR: "s" is not a tensor defined in the function${inF}`,
  );
  fails(
    primitive(`            gv = x\n            R.output(gv)`),
    `FuseTIR: the result "x" is a parameter; in-place results are not supported${inF}`,
  );
  fails(
    primitive(ret(`R.call_tir(cls.main, (x,), out_sinfo=${T48})`)),
    `FuseTIR: call_tir "main" is not a PrimFunc of the module${inF}`,
  );
  fails(
    primitive(ret(`R.call_tir(cls.exp, (R.const(1.0, "float32"),), out_sinfo=${T48})`)),
    `FuseTIR: constants are not supported (bind them as parameters)${inF}`,
  );
  fails(
    primitive(ret("R.add(x, x)")),
    /^FuseTIR: unsupported value R\.add\(x, x\) in primitive function "fused_f"/,
  );
  fails(
    primitive(ret(`R.call_tir(cls.exp, (x, x), out_sinfo=${T48})`)),
    `FuseTIR: "exp" takes 2 parameters, but is called with 2 arguments and 1 outputs${inF}`,
  );
  fails(
    primitive(
      `            t = (x,)\n            gv = R.call_tir(cls.exp, t, out_sinfo=${T48})\n            R.output(gv)`,
    ),
    `FuseTIR: call_tir arguments must be a tuple${inF}`,
  );
  fails(
    primitive(
      `            t = (x, x)\n            gv = R.call_tir(cls.exp, (t,), out_sinfo=${T48})\n            R.output(gv)`,
    ),
    `FuseTIR: argument 0 of "exp" must be a single tensor${inF}`,
  );
  fails(
    primitive(ret(`R.call_tir(cls.exp, (x,), out_sinfo=R.Tensor(dtype="float32", ndim=2))`)),
    `FuseTIR: the outputs of "exp" must be tensors of known shape${inF}`,
  );
  fails(
    primitive(ret(`R.call_tir(cls.exp, (x,), out_sinfo=${T48}, tir_vars=R.shape([4]))`)),
    `FuseTIR: "exp" takes 0 scalar parameters, but tir_vars has 1${inF}`,
  );
  {
    // tir_vars given as a shape variable of unknown values (built by hand: the parser takes literals).
    const m = parse(primitive(
      ret(`R.call_tir(cls.exp, (x,), out_sinfo=${T48}, tir_vars=R.shape([1]))`),
      `x: ${T48}, s: R.Shape(ndim=1)`,
      "",
      "cls.fused_f(x, R.shape([1]))",
    ));
    const f = m.functions.get("fused_f") as Function;
    const g = rewriteFunction(f, {
      expr: (e) =>
        e.kind === "relax.Call" && e.args[2]
          ? { ...e, args: [e.args[0]!, e.args[1]!, f.params[1]!] }
          : undefined,
    });
    assert.throws(() => fuseTIR()(withFunction(m, "fused_f", g)), {
      message: `FuseTIR: call_tir tir_vars must be a shape of known values${inF}`,
    });
  }
  fails(
    primitive(
      ret(`R.call_tir(cls.scal, (x, x), out_sinfo=${T48})`),
      `x: ${T48}`,
      scalarKernel("int64"),
    ),
    `FuseTIR: scalar parameter "s" of "scal" must receive a prim value${inF}`,
  );
  fails(
    primitive(
      ret(`R.call_tir(cls.scal, (x,), out_sinfo=[${T48}, ${T48}])`),
      `x: ${T48}`,
      scalarKernel("int64"),
    ),
    `FuseTIR: output parameter 1 of "scal" is not a buffer${inF}`,
  );
  fails(
    primitive(
      ret(`R.call_tir(cls.flat, (x,), out_sinfo=${T48})`),
      `x: ${T48}`,
      `
    @T.prim_func(private=True)
    def flat(A: ${B48}, B: ${B48}):
        for i, j in T.grid(T.int64(4), T.int64(8)):
            B[i, j] = A[i, j]
`,
    ),
    `FuseTIR: "flat" cannot be fused: only PrimFuncs whose body is the root block can${inF}`,
  );
  // Symbolic matching of the callee's parameters against the arguments.
  fails(
    primitive(ret(`R.call_tir(cls.exp, (x,), out_sinfo=R.Tensor((4, 9), dtype="float32"))`)),
    "FuseTIR: parameter expression T.int64(8) expects the argument 8, but got T.int64(9)",
  );
  fails(
    primitive(ret(`R.call_tir(cls.exp, (x,), out_sinfo=R.Tensor((32,), dtype="float32"))`)),
    'FuseTIR: buffer "compute" of "exp" has 2 dimensions, but its argument has 1',
  );
  fails(
    primitive(
      ret(`R.call_tir(cls.scal, (x, R.prim_value(T.int64(3))), out_sinfo=${T48})`),
      `x: ${T48}`,
      scalarKernel("float32"),
    ),
    "FuseTIR: parameter expression s of dtype float32 cannot match the argument T.int64(3) of dtype int64",
  );
  const square = `
    @T.prim_func(private=True)
    def sq(var_A: T.handle, var_B: T.handle):
        n = T.int64()
        A = T.match_buffer(var_A, (n, n * T.int64(2)))
        B = T.match_buffer(var_B, (n, n * T.int64(2)))
        for i, j in T.grid(n, n * T.int64(2)):
            with T.sblock("B"):
                vi, vj = T.axis.remap("SS", [i, j])
                B[vi, vj] = A[vi, vj]
`;
  fails(
    primitive(
      ret(`R.call_tir(cls.sq, (x,), out_sinfo=R.Tensor((4, 9), dtype="float32"))`),
      `x: ${T48}`,
      square,
    ),
    /^FuseTIR: parameter expression n \* T\.int64\(2\) cannot match the argument T\.int64\(9\)/,
  );
  fails(
    primitive(
      ret(`R.call_tir(cls.exp, (x,), out_sinfo=${T48})`),
      `x: ${T48}, s: R.Shape(ndim=1)`,
      "",
      "cls.fused_f(x, s)",
      `x: ${T48}, s: R.Shape(ndim=1)`,
    ),
    'FuseTIR: argument 1 of the call of "fused_f" must be a shape of known values',
  );
});

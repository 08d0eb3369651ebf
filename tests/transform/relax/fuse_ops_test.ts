import assert from "node:assert/strict";
import { PassContext } from "../../../transform/pass.ts";
import { fuseOps } from "../../../transform/relax/fuse_ops.ts";
import { add, matmul, rowSum, rt, transpose, twoOutputs, unary } from "./_kernels.ts";
import { checkNoOp, checkPass, parse } from "./_graph_pass_helpers.ts";
import { assertClose, evalRelax, randomTensor } from "./_relax_eval.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import {
  dataflowBlock,
  rcall,
  relaxFunction,
  rvar,
  seqExpr,
  tuple,
  varBinding,
} from "../../../ir/relax/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { tensorSInfo } from "../../../ir/relax/struct_info.ts";
import { callTIR } from "../../../ir/relax/op/call.ts";
import { globalVar } from "../../../ir/relax/expr.ts";

function mod(...parts: string[]): string {
  return `
@I.ir_module
class Module:
${parts.join("\n")}`;
}

const T48 = rt([4, 8]);
const EXP = unary("exp", [4, 8], "T.exp(X)");
const RELU = unary("relu", [4, 8], "T.max(X, T.float32(0.0))");
const ADD = add("add", [4, 8]);
const BIAS = add("add", [4, 8], true);
const MM = matmul("matmul", 4, 16, 8);

Deno.test("FuseOps: an elementwise chain becomes one primitive function", () => {
  checkPass(
    fuseOps(),
    mod(
      ADD,
      EXP,
      `
    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.add, (x, y), out_sinfo=${T48})
            gv = R.call_tir(cls.exp, (lv,), out_sinfo=${T48})
            R.output(gv)
        return gv`,
    ),
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
  );
});

const MLP_BEFORE = mod(
  MM,
  BIAS,
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

Deno.test("FuseOps: a matmul takes its bias add and relu (out-elemwise-fusable + elemwise)", () => {
  checkPass(
    fuseOps(),
    MLP_BEFORE,
    mod(
      MM,
      BIAS,
      RELU,
      `
    @R.function(private=True)
    def fused_matmul_add_relu(x: ${rt([4, 16])}, w: ${rt([16, 8])}, b: ${rt([8])}) -> ${T48}:
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.matmul, (x, w), out_sinfo=${T48})
            lv1 = R.call_tir(cls.add, (lv, b), out_sinfo=${T48})
            gv = R.call_tir(cls.relu, (lv1,), out_sinfo=${T48})
            R.output(gv)
        return gv

    @R.function
    def main(x: ${rt([4, 16])}, w: ${rt([16, 8])}, b: ${rt([8])}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv: ${T48} = cls.fused_matmul_add_relu(x, w, b)
            R.output(gv)
        return gv`,
    ),
  );
});

Deno.test("FuseOps: an elementwise producer fuses into a reduction, which ends its group", () => {
  const SUM = rowSum("sum", 4, 8);
  const EXP4 = unary("exp1", [4], "T.exp(X)");
  checkPass(
    fuseOps(),
    mod(
      EXP,
      SUM,
      EXP4,
      `
    @R.function
    def main(x: ${T48}) -> ${rt([4])}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            lv1 = R.call_tir(cls.sum, (lv,), out_sinfo=${rt([4])})
            gv = R.call_tir(cls.exp1, (lv1,), out_sinfo=${rt([4])})
            R.output(gv)
        return gv`,
    ),
    mod(
      EXP,
      SUM,
      EXP4,
      `
    @R.function(private=True)
    def fused_exp_sum(x: ${T48}) -> ${rt([4])}:
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            gv = R.call_tir(cls.sum, (lv,), out_sinfo=${rt([4])})
            R.output(gv)
        return gv

    @R.function
    def main(x: ${T48}) -> ${rt([4])}:
        cls = Module
        with R.dataflow():
            lv1: ${rt([4])} = cls.fused_exp_sum(x)
            gv = R.call_tir(cls.exp1, (lv1,), out_sinfo=${rt([4])})
            R.output(gv)
        return gv`,
    ),
  );
});

Deno.test("FuseOps: a diamond of elementwise ops fuses into its post-dominator", () => {
  checkPass(
    fuseOps(),
    mod(
      EXP,
      RELU,
      ADD,
      `
    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            lv1 = R.call_tir(cls.relu, (lv,), out_sinfo=${T48})
            lv2 = R.call_tir(cls.exp, (lv,), out_sinfo=${T48})
            gv = R.call_tir(cls.add, (lv1, lv2), out_sinfo=${T48})
            R.output(gv)
        return gv`,
    ),
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
  );
});

Deno.test("FuseOps: constants become parameters; identical groups share one function", () => {
  const ADD0 = add("add", [4, 8]);
  const before = mod(
    ADD0,
    EXP,
    `
    @R.function
    def main(x: ${T48}, y: ${T48}) -> R.Tuple(${T48}, ${T48}):
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.add, (x, metadata["relax.expr.Constant"][0]), out_sinfo=${T48})
            gv = R.call_tir(cls.exp, (lv,), out_sinfo=${T48})
            lv1 = R.call_tir(cls.add, (y, metadata["relax.expr.Constant"][0]), out_sinfo=${T48})
            gv1 = R.call_tir(cls.exp, (lv1,), out_sinfo=${T48})
            R.output(gv, gv1)
        return (gv, gv1)`,
  );
  const meta = `
# Metadata
metadata = {"relax.expr.Constant": [{"dtype": "float32", "shape": [4, 8], "data": "${
    btoa(String.fromCharCode(...new Uint8Array(new Float32Array(32).fill(1).buffer)))
  }"}]}`;
  checkPass(
    fuseOps(),
    before + meta,
    mod(
      ADD0,
      EXP,
      `
    @R.function(private=True)
    def fused_add_exp(x: ${T48}, param_0: ${T48}) -> ${T48}:
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.add, (x, param_0), out_sinfo=${T48})
            gv = R.call_tir(cls.exp, (lv,), out_sinfo=${T48})
            R.output(gv)
        return gv

    @R.function
    def main(x: ${T48}, y: ${T48}) -> R.Tuple(${T48}, ${T48}):
        cls = Module
        with R.dataflow():
            gv: ${T48} = cls.fused_add_exp(x, metadata["relax.expr.Constant"][0])
            gv1: ${T48} = cls.fused_add_exp(y, metadata["relax.expr.Constant"][0])
            R.output(gv, gv1)
        return (gv, gv1)`,
    ) + meta,
  );
});

Deno.test("FuseOps: symbolic shapes get fresh variables in the fused function", () => {
  const k = (name: string, body: string) => `
    @T.prim_func(private=True)
    def ${name}(var_A: T.handle, var_compute: T.handle):
        T.func_attr({"op_pattern": 0, "tir.noalias": True})
        n = T.int64()
        A = T.match_buffer(var_A, (n, T.int64(4)))
        compute = T.match_buffer(var_compute, (n, T.int64(4)))
        for i0, i1 in T.grid(n, T.int64(4)):
            with T.sblock("compute"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(A[v_i0, v_i1])
                T.writes(compute[v_i0, v_i1])
                compute[v_i0, v_i1] = ${body}
`;
  const kernels = [k("exp", "T.exp(A[v_i0, v_i1])"), k("log", "T.log(A[v_i0, v_i1])")];
  const TN = `R.Tensor((n, 4), dtype="float32")`;
  checkPass(
    fuseOps(),
    mod(
      ...kernels,
      `
    @R.function
    def main(x: ${TN}) -> ${TN}:
        n = T.int64()
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${TN})
            gv = R.call_tir(cls.log, (lv,), out_sinfo=${TN})
            R.output(gv)
        return gv`,
    ),
    mod(
      ...kernels,
      `
    @R.function(private=True)
    def fused_exp_log(x: ${TN}) -> ${TN}:
        n = T.int64()
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${TN})
            gv = R.call_tir(cls.log, (lv,), out_sinfo=${TN})
            R.output(gv)
        return gv

    @R.function
    def main(x: ${TN}) -> ${TN}:
        n = T.int64()
        cls = Module
        with R.dataflow():
            gv: ${TN} = cls.fused_exp_log(x)
            R.output(gv)
        return gv`,
    ),
  );
});

Deno.test("FuseOps: fields of an opaque multi-output call become separate parameters", () => {
  const SPLIT = twoOutputs("split", 4, 8);
  checkPass(
    fuseOps(),
    mod(
      SPLIT,
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
    ),
    mod(
      SPLIT,
      EXP,
      ADD,
      `
    @R.function(private=True)
    def fused_exp_exp_add(lv_0: ${T48}, lv_1: ${T48}) -> ${T48}:
        R.func_attr({"Primitive": True})
        cls = Module
        with R.dataflow():
            c = R.call_tir(cls.exp, (lv_0,), out_sinfo=${T48})
            d = R.call_tir(cls.exp, (lv_1,), out_sinfo=${T48})
            gv = R.call_tir(cls.add, (c, d), out_sinfo=${T48})
            R.output(gv)
        return gv

    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.split, (x,), out_sinfo=[${T48}, ${T48}])
            lv1: ${T48} = lv[0]
            lv2: ${T48} = lv[1]
            gv: ${T48} = cls.fused_exp_exp_add(lv1, lv2)
            R.output(gv)
        return gv`,
    ),
  );
});

Deno.test("FuseOps: two matmuls, opaque calls and injective-into-matmul do not fuse (same module)", () => {
  checkNoOp(
    fuseOps(),
    mod(
      matmul("matmul", 4, 8, 8),
      transpose("transpose", 8, 8),
      `
    @R.function
    def main(x: ${T48}, w: ${rt([8, 8])}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.transpose, (w,), out_sinfo=${rt([8, 8])})
            lv1 = R.call_tir(cls.matmul, (x, lv), out_sinfo=${T48})
            lv2 = R.call_tir(cls.matmul, (lv1, lv), out_sinfo=${T48})
            gv = R.call_dps_packed("my_relu", (lv2,), out_sinfo=${T48})
            R.output(gv)
        return gv`,
    ),
  );
});

Deno.test("FuseOps: a PrimFunc without op_pattern is opaque", () => {
  const noPattern = (s: string) => s.replace(`"op_pattern": 0, `, "");
  checkNoOp(
    fuseOps(),
    mod(
      noPattern(ADD),
      noPattern(EXP),
      `
    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.add, (x, y), out_sinfo=${T48})
            gv = R.call_tir(cls.exp, (lv,), out_sinfo=${T48})
            R.output(gv)
        return gv`,
    ),
  );
});

const CHAIN = mod(
  EXP,
  RELU,
  `
    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            lv1 = R.call_tir(cls.relu, (lv,), out_sinfo=${T48})
            lv2 = R.call_tir(cls.exp, (lv1,), out_sinfo=${T48})
            gv = R.call_tir(cls.relu, (lv2,), out_sinfo=${T48})
            R.output(gv)
        return gv`,
);

Deno.test("FuseOps: fuseOptLevel 0 disables fusion", () => {
  checkNoOp(fuseOps({ fuseOptLevel: 0 }), CHAIN);
});

Deno.test("FuseOps: maxDepth bounds the size of a group (option or pass-context setting)", () => {
  const count = (m: ReturnType<typeof parse>) =>
    [...m.functions.values()].filter((f) => f.kind === "relax.Function" && f.attrs["Primitive"])
      .length;
  const full = fuseOps()(parse(CHAIN));
  assert.equal(count(full), 1);
  const two = fuseOps({ maxDepth: 2 })(parse(CHAIN));
  assert.equal(count(two), 1); // {exp, relu} twice: one shared function
  assert.ok(two.functions.has("fused_exp_relu"));
  const ctx = new PassContext({ config: { "relax.FuseOps.max_depth": 2 } });
  assert.ok(fuseOps()(parse(CHAIN), ctx).functions.has("fused_exp_relu"));
  assert.throws(() => fuseOps({ maxDepth: 0 })(parse(CHAIN)), {
    message: "FuseOps: maxDepth must be a positive integer, got 0",
  });
});

Deno.test("FuseOps: the fused module computes what the original computes", () => {
  const before = parse(MLP_BEFORE);
  const after = fuseOps()(before);
  const args = [randomTensor([4, 16], 1), randomTensor([16, 8], 2), randomTensor([8], 3)];
  assertClose(evalRelax(after, "main", args), evalRelax(before, "main", args));
});

Deno.test("FuseOps: errors name the problem", () => {
  const x = rvar("x", tensorSInfo([4, 8], "float32"));
  const call = callTIR(globalVar("missing"), [x], tensorSInfo([4, 8], "float32"));
  const v = rvar("gv", call.structInfo);
  const f = relaxFunction([x], seqExpr([dataflowBlock([varBinding(v, call)])], v));
  assert.throws(() => fuseOps()(irModule({ main: f })), {
    message: 'FuseOps: call_tir "missing" is not a PrimFunc of the module',
  });
  const m = parseTVMScript(mod(
    EXP,
    `
    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            R.output(gv)
        return gv`,
  ));
  const nested = rcall(globalVar("exp"), [tuple([rcall(globalVar("exp"), [x])])]);
  const g = relaxFunction(
    [x],
    seqExpr([dataflowBlock([varBinding(rvar("y", nested.structInfo), nested)])], x),
  );
  assert.throws(() => fuseOps()(irModule([...m.functions, ["f", g] as const])), {
    message: /^FuseOps expects call arguments to be variables, constants or tuples of them/,
  });
  const tupleVar = parseTVMScript(mod(
    EXP,
    `
    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            t = (x,)
            gv = R.call_tir(cls.exp, t, out_sinfo=${T48})
            R.output(gv)
        return gv`,
  ));
  assert.throws(() => fuseOps()(tupleVar), {
    message: 'FuseOps: call_tir of "exp" must pass its arguments as a tuple',
  });
  const twice = relaxFunction([x], seqExpr([dataflowBlock([varBinding(x, x)])], x));
  assert.throws(() => fuseOps()(irModule({ main: twice })), {
    message: 'FuseOps: variable "x" is defined more than once',
  });
});

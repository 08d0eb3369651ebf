import assert from "node:assert/strict";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import {
  analyzeOpPattern,
  annotateOpPattern,
  annotateTIROpPattern,
  opPatternAttr,
  patternOfKind,
} from "../../../transform/relax/annotate_tir_op_pattern.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { checkNoOp, checkPass } from "./_graph_pass_helpers.ts";

const ATTR = `T.func_attr({"tir.noalias": True})`;

/** Before: the kernel as written; Expected: with `"op_pattern": kind` added. */
function checkKind(kind: number, kernel: string): void {
  const module = (attr: string) => `
@I.ir_module
class Module:
${kernel.replace("ATTR", attr)}`;
  checkPass(
    annotateTIROpPattern(),
    module(ATTR),
    module(`T.func_attr({"op_pattern": ${kind}, "tir.noalias": True})`),
  );
}

const ADD = `
    @T.prim_func
    def add(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4, 8), "float32"), C: T.Buffer((4, 8), "float32")):
        ATTR
        for i, j in T.grid(4, 8):
            with T.sblock("C"):
                vi, vj = T.axis.remap("SS", [i, j])
                T.reads(A[vi, vj], B[vi, vj])
                T.writes(C[vi, vj])
                C[vi, vj] = A[vi, vj] + B[vi, vj]
`;

Deno.test("AnnotateTIROpPattern: elementwise add is 0", () => checkKind(0, ADD));

Deno.test("AnnotateTIROpPattern: a bias add (elementwise plus broadcast loads) is elementwise", () => {
  checkKind(
    0,
    `
    @T.prim_func
    def bias_add(A: T.Buffer((1, 16), "float32"), B: T.Buffer((16,), "float32"), C: T.Buffer((1, 16), "float32")):
        ATTR
        for i, j in T.grid(1, 16):
            with T.sblock("T_add"):
                vi, vj = T.axis.remap("SS", [i, j])
                T.reads(A[vi, vj], B[vj])
                T.writes(C[vi, vj])
                C[vi, vj] = A[vi, vj] + B[vj]
`,
  );
});

Deno.test("AnnotateTIROpPattern: a broadcast (subset of indices, unit dims at 0) is 1", () => {
  checkKind(
    1,
    `
    @T.prim_func
    def bcast(A: T.Buffer((8, 1), "float32"), B: T.Buffer((4, 8), "float32")):
        ATTR
        for i, j in T.grid(4, 8):
            with T.sblock("B"):
                vi, vj = T.axis.remap("SS", [i, j])
                T.reads(A[vj, 0])
                T.writes(B[vi, vj])
                B[vi, vj] = A[vj, 0]
`,
  );
});

Deno.test("AnnotateTIROpPattern: a transpose is injective (2)", () => {
  checkKind(
    2,
    `
    @T.prim_func
    def transpose(A: T.Buffer((8, 4), "float32"), B: T.Buffer((4, 8), "float32")):
        ATTR
        for i, j in T.grid(4, 8):
            with T.sblock("T_transpose"):
                vi, vj = T.axis.remap("SS", [i, j])
                T.reads(A[vj, vi])
                T.writes(B[vi, vj])
                B[vi, vj] = A[vj, vi]
`,
  );
});

const SUM = `
    @T.prim_func
    def sum(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4,), "float32")):
        ATTR
        for i, k in T.grid(4, 8):
            with T.sblock("B"):
                vi, vk = T.axis.remap("SR", [i, k])
                T.reads(A[vi, vk])
                T.writes(B[vi])
                with T.init():
                    B[vi] = T.float32(0.0)
                B[vi] = B[vi] + A[vi, vk]
`;

Deno.test("AnnotateTIROpPattern: a row sum is a reduction (3)", () => checkKind(3, SUM));

const MATMUL = `
    @T.prim_func
    def matmul(A: T.Buffer((4, 16), "float32"), B: T.Buffer((16, 8), "float32"), C: T.Buffer((4, 8), "float32")):
        ATTR
        for i, j, k in T.grid(4, 8, 16):
            with T.sblock("matmul"):
                vi, vj, vk = T.axis.remap("SSR", [i, j, k])
                T.reads(A[vi, vk], B[vk, vj])
                T.writes(C[vi, vj])
                with T.init():
                    C[vi, vj] = T.float32(0.0)
                C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]
`;

Deno.test("AnnotateTIROpPattern: a matmul is out-elemwise-fusable (4)", () => checkKind(4, MATMUL));

Deno.test("AnnotateTIROpPattern: a matmul with casts is out-elemwise-fusable", () => {
  checkKind(
    4,
    `
    @T.prim_func
    def matmul_i8(A: T.Buffer((4, 16), "int8"), B: T.Buffer((16, 8), "int8"), C: T.Buffer((4, 8), "int32")):
        ATTR
        for i, j, k in T.grid(4, 8, 16):
            with T.sblock("matmul"):
                vi, vj, vk = T.axis.remap("SSR", [i, j, k])
                T.reads(A[vi, vk], B[vk, vj])
                T.writes(C[vi, vj])
                with T.init():
                    C[vi, vj] = 0
                C[vi, vj] = C[vi, vj] + T.Cast("int32", A[vi, vk]) * T.Cast("int32", B[vk, vj])
`,
  );
});

Deno.test("AnnotateTIROpPattern: a windowed max (pooling) is out-elemwise-fusable", () => {
  checkKind(
    4,
    `
    @T.prim_func
    def pool(A: T.Buffer((10,), "float32"), B: T.Buffer((4,), "float32")):
        ATTR
        for i, r in T.grid(4, 3):
            with T.sblock("pool"):
                vi, vr = T.axis.remap("SR", [i, r])
                T.reads(A[vi * 2 + vr])
                T.writes(B[vi])
                with T.init():
                    B[vi] = T.float32(-1000.0)
                B[vi] = T.max(B[vi], A[vi * 2 + vr])
`,
  );
});

Deno.test("AnnotateTIROpPattern: a reduction followed by an injective output block (softmax-like)", () => {
  checkKind(
    4,
    `
    @T.prim_func
    def norm(A: T.Buffer((4, 8), "float32"), C: T.Buffer((4, 8), "float32")):
        ATTR
        S = T.sblock_alloc_buffer((4,))
        for i, k in T.grid(4, 8):
            with T.sblock("S"):
                vi, vk = T.axis.remap("SR", [i, k])
                T.reads(A[vi, vk])
                T.writes(S[vi])
                with T.init():
                    S[vi] = T.float32(0.0)
                S[vi] = S[vi] + A[vi, vk]
        for i, j in T.grid(4, 8):
            with T.sblock("C"):
                vi, vj = T.axis.remap("SS", [i, j])
                T.reads(A[vi, vj], S[vi])
                T.writes(C[vi, vj])
                C[vi, vj] = A[vi, vj] / S[vi]
`,
  );
});

Deno.test("AnnotateTIROpPattern: two stores at different indices are opaque (8)", () => {
  checkKind(
    8,
    `
    @T.prim_func
    def two(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
        ATTR
        for i in range(4):
            with T.sblock("B"):
                vi = T.axis.spatial(4, i)
                T.reads(A[vi * 2:vi * 2 + 2])
                T.writes(B[vi * 2:vi * 2 + 2])
                B[vi * 2] = A[vi * 2]
                B[vi * 2 + 1] = A[vi * 2 + 1]
`,
  );
});

Deno.test("AnnotateTIROpPattern: a block without a store is opaque", () => {
  checkKind(
    8,
    `
    @T.prim_func
    def nostore(A: T.Buffer((8,), "float32")):
        ATTR
        for i in range(8):
            with T.sblock("b"):
                vi = T.axis.spatial(8, i)
                T.reads(A[vi])
                T.writes()
                T.evaluate(0)
`,
  );
});

Deno.test("AnnotateTIROpPattern: a gather (index variables all from the store) is injective", () => {
  checkKind(
    2,
    `
    @T.prim_func
    def gather(A: T.Buffer((8,), "float32"), I: T.Buffer((4,), "int32"), B: T.Buffer((4,), "float32")):
        ATTR
        for i in range(4):
            with T.sblock("B"):
                vi = T.axis.spatial(4, i)
                T.reads(A[0:8], I[vi])
                T.writes(B[vi])
                B[vi] = A[I[vi]]
`,
  );
});

Deno.test("AnnotateTIROpPattern: a load outside the store's variables, without reduction, is opaque", () => {
  checkKind(
    8,
    `
    @T.prim_func
    def last(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4,), "float32")):
        ATTR
        for i, j in T.grid(4, 8):
            with T.sblock("B"):
                vi, vj = T.axis.remap("SS", [i, j])
                T.reads(A[vi, vj])
                T.writes(B[vi])
                B[vi] = A[vi, vj]
`,
  );
});

Deno.test("AnnotateTIROpPattern: returns the same module when every PrimFunc is annotated", () => {
  checkNoOp(
    annotateTIROpPattern(),
    `
@I.ir_module
class Module:
${ADD.replace("ATTR", `T.func_attr({"op_pattern": 0, "tir.noalias": True})`)}
${MATMUL.replace("ATTR", `T.func_attr({"op_pattern": 4, "tir.noalias": True})`)}
`,
  );
});

Deno.test("AnnotateTIROpPattern: a nonzero annotation is trusted, a zero one is checked again", () => {
  const mod = parseTVMScript(`
@I.ir_module
class Module:
${SUM.replace("ATTR", `T.func_attr({"op_pattern": 8})`)}
${MATMUL.replace("ATTR", `T.func_attr({"op_pattern": 0})`)}
`);
  const out = annotateTIROpPattern()(mod);
  assert.equal(opPatternAttr(out.functions.get("sum") as PrimFunc), 8);
  assert.equal(opPatternAttr(out.functions.get("matmul") as PrimFunc), 4);
  const f = out.functions.get("sum") as PrimFunc;
  assert.equal(annotateOpPattern(f), f);
});

Deno.test("analyzeOpPattern names the kinds; patternOfKind maps integers back", () => {
  const f = parseTVMScript(`\n@I.ir_module\nclass Module:\n${SUM.replace("ATTR", ATTR)}`).functions
    .get("sum");
  assert.equal(analyzeOpPattern(f as PrimFunc), "reduction");
  assert.deepEqual([0, 1, 2, 3, 4, 7, 8].map(patternOfKind), [
    "elemwise",
    "broadcast",
    "injective",
    "reduction",
    "out-elemwise-fusable",
    "opaque",
    "opaque",
  ]);
});

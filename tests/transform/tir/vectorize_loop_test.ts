import assert from "node:assert/strict";
import { intImm, letExpr, primVar, ramp } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { bufferStore } from "../../../ir/tir/stmt.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import type { IRModule } from "../../../ir/module.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { vectorizeLoop } from "../../../transform/tir/vectorize_loop.ts";
import {
  scalarizeVectors,
  scalarizeVectorsPass,
} from "../../../transform/tir/scalarize_vectors.ts";
import { lowerTIRPipeline } from "../../../transform/tir/pipeline.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import * as te from "../../../ir/te/mod.ts";

const PARAMS = `A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32"), ` +
  `S: T.Buffer((16,), "float32"), I: T.Buffer((64,), "int32")`;

function mod(body: string): IRModule {
  return parseTVMScript(`
# from tvm.script import tir as T

@T.prim_func
def main(${PARAMS}):
${body}`) as IRModule;
}

/** Checks `pass(before) == expected`, and that the result round-trips through TVMScript. */
function check(before: string, expected: string, pass = vectorizeLoop): void {
  const got = pass(mod(before));
  assertStructuralEqual(got, mod(expected));
  assertStructuralEqual(parseTVMScript(printTVMScript(got)), got);
}

Deno.test("vectorizeLoop() makes contiguous accesses ramps and broadcasts invariant values", () => {
  check(
    `
    for i in range(16):
        for v in T.vectorized(4):
            B[i * 4 + v] = A[i * 4 + v] * S[i] + T.float32(1)
`,
    `
    for i in range(16):
        B[i * 4:i * 4 + 4] = A[i * 4:i * 4 + 4] * T.Broadcast(S[i], 4) + T.Broadcast(T.float32(1), 4)
`,
  );
});

Deno.test("vectorizeLoop() keeps floordiv/floormod of an aligned run linear", () => {
  check(
    `
    for i in range(16):
        for v in T.vectorized(4):
            B[i * 4 + v] = A[(i * 4 + v) % 16] + S[(i * 4 + v) // 16]
`,
    `
    for i in range(16):
        B[i * 4:i * 4 + 4] = A[i * 4 % 16:i * 4 % 16 + 4] + T.Broadcast(S[i // 4], 4)
`,
  );
});

Deno.test("vectorizeLoop() computes strided, gathered and converted lanes element-wise", () => {
  check(
    `
    for i in range(8):
        for v in T.vectorized(2):
            x: T.float32 = T.exp(A[v * 8 + i]) + T.Cast("float32", I[I[i * 2 + v]])
            B[i * 2 + v] = T.Select(x > T.float32(0), x, T.float32(0))
`,
    `
    for i in range(8):
        x: T.float32x2 = T.exp(A[T.Ramp(i, 8, 2)]) + T.Cast("float32x2", I[I[i * 2:i * 2 + 2]])
        B[i * 2:i * 2 + 2] = T.Select(x > T.Broadcast(T.float32(0), 2), x, T.Broadcast(T.float32(0), 2))
`,
  );
});

Deno.test("vectorizeLoop() vectorizes both branches of a uniform if", () => {
  check(
    `
    for i in range(16):
        for v in T.vectorized(4):
            if i < 8:
                B[i * 4 + v] = A[i * 4 + v]
            else:
                B[i * 4 + v] = T.float32(0)
`,
    `
    for i in range(16):
        if i < 8:
            B[i * 4:i * 4 + 4] = A[i * 4:i * 4 + 4]
        else:
            B[i * 4:i * 4 + 4] = T.Broadcast(T.float32(0), 4)
`,
  );
});

Deno.test("vectorizeLoop() leaves loops it cannot express as vectors", () => {
  const kept = [
    // a reduction into one element
    `
    for v in T.vectorized(4):
        S[0] = S[0] + A[v]
`,
    // a branch that depends on the lane
    `
    for v in T.vectorized(4):
        if v < 2:
            B[v] = A[v]
`,
    // an inner loop
    `
    for v in T.vectorized(4):
        for k in range(4):
            B[v] = B[v] + A[v * 4 + k]
`,
    // more lanes than a WGSL vector has
    `
    for v in T.vectorized(8):
        B[v] = A[v]
`,
    // integer division of a lane-dependent index that crosses rows
    `
    for i in range(16):
        for v in T.vectorized(4):
            B[i * 4 + v] = S[(i * 4 + v) // 3]
`,
    // an intrinsic without a vector form
    `
    for v in T.vectorized(4):
        B[v] = T.erf(A[v])
`,
  ];
  for (const body of kept) check(body, body);
});

Deno.test("scalarizeVectorsPass() undoes vectorization lane by lane", () => {
  check(
    `
    for i in range(16):
        x: T.float32x2 = A[i * 2:i * 2 + 2] * T.Broadcast(S[i], 2)
        B[T.Ramp(i, 16, 2)] = x
`,
    `
    for i in range(16):
        x_0: T.float32 = A[i * 2] * S[i]
        x_1: T.float32 = A[i * 2 + 1] * S[i]
        lane0: T.float32 = x_0
        lane1: T.float32 = x_1
        B[i] = lane0
        B[i + 16] = lane1
`,
    scalarizeVectorsPass,
  );
});

Deno.test("lowerTIRPipeline() vectorizes a te kernel split and marked by a schedule", () => {
  const X = te.placeholder([8, 16], "float32", "X");
  const Y = te.compute([8, 16], ([i, j]) => X.at(i, j).mul(2), { name: "Y" });
  const sch = new Schedule(te.createPrimFunc([X, Y]));
  const [, j] = sch.getLoops(sch.getSBlock("Y"));
  const [, v] = sch.split(j!, [undefined, 4]);
  sch.vectorize(v!);
  const lowered = lowerTIRPipeline()(irModule({ main: sch.func }));
  assertStructuralEqual(
    lowered,
    parseTVMScript(`
# from tvm.script import tir as T

@T.prim_func
def main(X: T.Buffer((8, 16), "float32"), Y: T.Buffer((8, 16), "float32")):
    T.func_attr({"tir.noalias": True})
    X_1 = T.decl_buffer((128,), data=X.data)
    Y_1 = T.decl_buffer((128,), data=Y.data)
    for i in range(8):
        for j_0 in range(4):
            Y_1[i * 16 + j_0 * 4:i * 16 + j_0 * 4 + 4] = X_1[i * 16 + j_0 * 4:i * 16 + j_0 * 4 + 4] * T.Broadcast(T.float32(2), 4)
`),
  );
});

Deno.test("scalarizeVectors() names vector values it cannot split into lanes", () => {
  const free = mod(`
    for i in range(16):
        B[i * 4:i * 4 + 4] = A[i * 4:i * 4 + 4] + T.Broadcast(S[i], 4)
`);
  const f = free.functions.get("main") as PrimFunc;
  const v = primVar("w", "float32x4");
  const store = bufferStore(f.bufferMap.get(f.params[1]!)!, v, [ramp(intImm(0), 1, 4)]);
  assert.throws(
    () => scalarizeVectors({ ...f, body: store }),
    /Vector variable "w" is used outside its let/,
  );
  const x = primVar("x", "float32x4");
  const letValue = letExpr(x, v, x);
  assert.throws(
    () =>
      scalarizeVectors({
        ...f,
        body: bufferStore(f.bufferMap.get(f.params[1]!)!, letValue, [ramp(intImm(0), 1, 4)]),
      }),
    /Cannot take a lane of Let \(float32x4\)/,
  );
});

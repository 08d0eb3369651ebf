import assert from "node:assert/strict";
import { bufferLoad, declBuffer, primVar, range } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import {
  allocBuffer,
  bufferStore,
  declBufferStmt,
  forLoop,
  sblock,
  sblockRealize,
} from "../../../ir/tir/stmt.ts";
import { verifyLowered, verifyLoweredPass } from "../../../transform/tir/verify_lowered.ts";

const A = declBuffer([4, 4], "float32", "A");
const A1 = declBuffer([16], "float32", "A", { data: A.data });

Deno.test("verifyLowered() accepts flat TIR over parameters, declarations and allocations", () => {
  const T = declBuffer([16], "float32", "T", { scope: "local" });
  const i = primVar("i");
  const body = declBufferStmt(
    A1,
    allocBuffer(
      T,
      forLoop(i, range(0, 16), bufferStore(A1, bufferLoad(T, [i]), [i]), {
        threadTag: "threadIdx.x",
      }),
    ),
  );
  verifyLowered(primFunc([A], body));
});

Deno.test("verifyLowered() names a block that is left", () => {
  const f = primFunc([A], sblockRealize([], sblock("C", bufferStore(A1, 0, [0]))));
  assert.throws(() => verifyLowered(f, { name: "f" }), {
    message: 'Function "f" still contains block "C" after lowering',
  });
  const g = primFunc([A], sblock("root", bufferStore(A1, 0, [0])), {
    attrs: { global_symbol: "g" },
  });
  assert.throws(() => verifyLowered(g), {
    message: 'Function "g" still contains block "root" after lowering',
  });
});

Deno.test("verifyLowered() names multi-dimensional accesses and allocations", () => {
  const load = primFunc([A], declBufferStmt(A1, bufferStore(A1, bufferLoad(A, [0, 1]), [0])));
  assert.throws(() => verifyLowered(load, { name: "f" }), {
    message: 'Function "f" still accesses buffer "A" with 2 indices after lowering',
  });
  const T = declBuffer([2, 2], "float32", "T");
  const alloc = primFunc([A], allocBuffer(T, bufferStore(A1, 0, [0])));
  assert.throws(() => verifyLowered(alloc, { name: "f" }), {
    message: 'Function "f" still allocates buffer "T" with 2 dimensions after lowering',
  });
});

Deno.test("verifyLowered() names buffers without storage", () => {
  const T = declBuffer([4], "float32", "T");
  const i = primVar("i");
  const use = primFunc([A], forLoop(i, range(0, 4), bufferStore(T, 0, [i])));
  assert.throws(() => verifyLowered(use, { name: "f" }), {
    message: 'Function "f" accesses buffer "T" whose storage is neither a parameter nor allocated',
  });
  const decl = primFunc([A], declBufferStmt(T, bufferStore(T, 0, [0])));
  assert.throws(() => verifyLowered(decl, { name: "f" }), {
    message: 'Function "f" declares buffer "T" whose storage is neither a parameter nor allocated',
  });
  const after = primFunc([A], {
    kind: "SeqStmt",
    seq: [allocBuffer(T, bufferStore(T, 0, [0])), bufferStore(T, 1, [0])],
  });
  assert.throws(() => verifyLowered(after), {
    message:
      'Function "<anonymous>" accesses buffer "T" whose storage is neither a parameter nor allocated',
  });
});

Deno.test("verifyLowered() names a thread loop without a thread tag", () => {
  const i = primVar("i");
  const loop = {
    ...forLoop(i, range(0, 4), bufferStore(A1, 0, [i])),
    forKind: "thread_binding" as const,
  };
  assert.throws(() => verifyLowered(primFunc([A], declBufferStmt(A1, loop)), { name: "f" }), {
    message: 'Function "f" binds loop "i" to a thread without a thread tag',
  });
});

Deno.test("verifyLoweredPass() checks every PrimFunc under its global name", () => {
  const ok = irModule({ good: primFunc([A], declBufferStmt(A1, bufferStore(A1, 0, [0]))) });
  assert.equal(verifyLoweredPass(ok), ok);
  const bad = irModule({ bad: primFunc([A], bufferStore(A, 0, [0, 0])) });
  assert.throws(() => verifyLoweredPass(bad), {
    message: 'Function "bad" still accesses buffer "A" with 2 indices after lowering',
  });
});

import assert from "node:assert/strict";
import {
  add,
  bufferLoad,
  declBuffer,
  floordiv,
  floormod,
  lt,
  mul,
  primVar,
  range,
  sub,
} from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import {
  allocBuffer,
  bufferStore,
  evaluate,
  forLoop,
  ifThenElse,
  iterVar,
  letStmt,
  sblock,
  sblockRealize,
  seq,
} from "../../../ir/tir/stmt.ts";
import { simplifyPass } from "../../../transform/tir/simplify.ts";

Deno.test("simplifyPass() simplifies indices with the loop ranges", () => {
  const make = (simple: boolean) => {
    const B = declBuffer([4, 4], "float32", "B"), A = declBuffer([16], "float32", "A");
    const i = primVar("i"), j = primVar("j");
    const f = add(mul(i, 4), j);
    const store = simple
      ? bufferStore(B, bufferLoad(A, [f]), [i, j])
      : bufferStore(B, bufferLoad(A, [sub(add(f, 5), 5)]), [floordiv(f, 4), floormod(f, 4)]);
    const body = forLoop(i, range(0, 4), forLoop(j, range(0, 4), store));
    return irModule({ main: primFunc([A, B], body) });
  };
  assertStructuralEqual(simplifyPass(make(false)), make(true));
});

Deno.test("simplifyPass() drops conditions that the loop ranges prove and keeps the others", () => {
  const make = (simple: boolean) => {
    const A = declBuffer([16], "float32", "A");
    const i = primVar("i"), j = primVar("j");
    const f = add(mul(i, 4), j);
    const inner = simple
      ? ifThenElse(lt(f, 14), bufferStore(A, 0, [f]))
      : ifThenElse(lt(f, 16), ifThenElse(lt(f, 14), bufferStore(A, 0, [f])));
    const body = forLoop(i, range(0, 4), forLoop(j, range(0, 4), inner));
    return irModule({ main: primFunc([A], body) });
  };
  assertStructuralEqual(simplifyPass(make(false)), make(true));
});

Deno.test("simplifyPass() removes no-ops: empty loops, evaluate(0), unused lets, dead branches", () => {
  const make = (simple: boolean) => {
    const A = declBuffer([8], "float32", "A"), T = declBuffer([8], "float32", "T");
    const n = primVar("n"), i = primVar("i"), k = primVar("k"), x = primVar("x");
    const keep = ifThenElse(lt(n, 0), bufferStore(A, 3, [0]));
    const loop = (c: number) => forLoop(i, range(0, 8), bufferStore(A, c, [i]));
    const body = simple ? seq(loop(1), keep) : seq(
      evaluate(0),
      forLoop(k, range(0, 0), bufferStore(A, 0, [k])),
      letStmt(
        x,
        3,
        forLoop(
          i,
          range(0, 8),
          ifThenElse(lt(x, 4), bufferStore(A, 1, [i]), bufferStore(A, 2, [i])),
        ),
      ),
      allocBuffer(T, evaluate(0)),
      keep,
    );
    return irModule({ main: primFunc([A, n], body) });
  };
  assertStructuralEqual(simplifyPass(make(false)), make(true));
});

Deno.test("simplifyPass() uses block iteration domains and simplifies bindings", () => {
  const make = (simple: boolean) => {
    const A = declBuffer([16], "float32", "A");
    const i = primVar("i"), vi = primVar("vi");
    const value = simple ? i : floordiv(mul(i, 2), 2);
    const store = simple ? bufferStore(A, 0, [vi]) : bufferStore(A, 0, [floormod(vi, 16)]);
    const blk = sblock("A", store, { iterVars: [iterVar(vi, range(0, 16))] });
    return irModule({ main: primFunc([A], forLoop(i, range(0, 16), sblockRealize([value], blk))) });
  };
  assertStructuralEqual(simplifyPass(make(false)), make(true));
});

Deno.test("simplifyPass() returns the module itself when nothing simplifies", () => {
  const A = declBuffer([4, 4], "float32", "A");
  const i = primVar("i"), j = primVar("j");
  const body = forLoop(
    i,
    range(0, 4),
    forLoop(j, range(0, 4), bufferStore(A, bufferLoad(A, [i, j]).mul(2), [i, j])),
  );
  const mod = irModule({ main: primFunc([A], body) });
  assert.equal(simplifyPass(mod), mod);
});

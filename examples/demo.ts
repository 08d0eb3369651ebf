/**
 * The demo: a small Relax model built with the BlockBuilder and printed as TVMScript, then the
 * kernel example (te matmul + softmax on WebGPU) and the MLP example (a whole model through
 * the Relax VM).
 *
 *   deno task demo
 *
 * @module
 */

import { BlockBuilder, op, printTVMScript, R, tir } from "../mod.ts";

const n = tir.sizeVar("n", "int64");
const bb = new BlockBuilder();
const x = R.tensor([n, 16], "float32", "x");
const w = R.tensor([16, 8], "float32", "w");
bb.function("main", { x, w }, () =>
  bb.dataflow(() => {
    const h = bb.emit(op.nn.relu(op.matmul(x, w)));
    return bb.emitOutput(op.nn.softmax(h, { axis: -1 }));
  }));
console.log("== a Relax model, as TVMScript\n");
console.log(printTVMScript(bb.get()));

console.log("\n== examples/kernel.ts: te kernels on the device\n");
await import("./kernel.ts");

console.log("\n== examples/mlp.ts: a 3-layer MLP through the Relax VM\n");
const { main } = await import("./mlp.ts");
await main();

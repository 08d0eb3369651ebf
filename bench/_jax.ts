/**
 * The @jax-js/jax 0.1.25 harness, on its WebGPU device. jax-js is lazy: an op only records a
 * pending computation, so every call's result is kept and `sync` awaits `blockUntilReady()` on
 * each of them (all outputs are realized, not only the last). Softmax and layer norm are
 * `jit`ted functions, as a jax-js user would write them for speed.
 *
 * @module
 */

// Peers are dev-only dependencies of bench/, pinned inline so the library's config has none.
// deno-lint-ignore no-import-prefix
import * as jax from "npm:@jax-js/jax@0.1.25";
import { type BenchCase, LAYER_NORM_EPS } from "./_cases.ts";
import type { Framework, Runner } from "./_harness.ts";

const { blockUntilReady, defaultDevice, getWebGPUDevice, init, jit, nn, numpy: np } = jax;
type Arr = jax.numpy.Array;

function opOf(c: BenchCase): (xs: readonly Arr[]) => Arr {
  switch (c.op) {
    case "matmul":
    case "gemv":
      return ([a, b]) => np.matmul(a!.ref, b!.ref);
    case "softmax": {
      // jit fuses the softmax's steps (4 dispatches instead of 7 eagerly).
      const f = jit((x: Arr) => nn.softmax(x, -1));
      return ([x]) => f(x!.ref);
    }
    case "layer_norm": {
      const f = jit((x: Arr, g: Arr, b: Arr) =>
        nn.standardize(x, -1, { epsilon: LAYER_NORM_EPS }).mul(g).add(b)
      );
      return ([x, g, b]) => f(x!.ref, g!.ref, b!.ref);
    }
    case "add":
      return ([a, b]) => np.add(a!.ref, b!.ref);
    case "chain":
      // Not jitted: one dispatch per add, which is what the chain measures.
      return ([x, a]) => {
        let y = x!.ref;
        for (let i = 0; i < c.chainLength!; i++) y = y.add(a!.ref);
        return y;
      };
    default:
      return c.op satisfies never;
  }
}

/** Starts jax-js on WebGPU and returns its framework. */
export async function jaxJs(): Promise<Framework> {
  const devices = await init();
  if (!devices.includes("webgpu")) throw new Error("jax-js found no WebGPU device");
  defaultDevice("webgpu");
  const device = getWebGPUDevice();
  return {
    name: "jax-js 0.1.25",
    adapter: device.adapterInfo?.description,
    async prepare(c, inputs): Promise<Runner> {
      if (c.dtype === "float16" && !device.features.has("shader-f16")) {
        throw new Error("jax-js's device has no shader-f16");
      }
      const dtype = c.dtype === "float32" ? np.float32 : np.float16;
      const ins = inputs.map((d, i) =>
        np.array(c.dtype === "float32" ? new Float32Array(d) : new Float16Array(d), { dtype })
          .reshape([
            ...c.inputs[i]!,
          ])
      );
      await blockUntilReady(ins);
      const f = opOf(c);
      let pending: Arr[] = [];
      let last: Arr | undefined;
      return {
        run() {
          const y = f(ins);
          pending.push(y);
        },
        async sync() {
          const done = pending;
          pending = [];
          await Promise.all(done.map((y) => y.blockUntilReady()));
          last?.dispose();
          last = done.pop();
          for (const y of done) y.dispose();
        },
        async read() {
          return await last!.ref.data() as ArrayLike<number>;
        },
        dispose() {
          for (const y of [...ins, ...pending, ...(last ? [last] : [])]) y.dispose();
        },
      };
    },
  };
}

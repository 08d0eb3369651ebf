/**
 * Helpers for the numeric tests of graph passes: build a module, run one function on a device
 * while counting the kernels it launches, and read every returned tensor back.
 *
 * @module
 */

import type { IRModule } from "../../../ir/module.ts";
import { build } from "../../../runtime/build.ts";
import type { Device } from "../../../runtime/device.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { VirtualMachine } from "../../../runtime/vm/interpreter/virtual_machine.ts";
import type { VMValue } from "../../../runtime/vm/value.ts";
import type { Pass } from "../../../transform/pass.ts";

/** A host tensor given to a run. */
export interface HostTensor {
  /** Row-major data. */
  readonly data: Float32Array;
  /** The shape. */
  readonly shape: readonly number[];
}

/** What one run returned. */
export interface RunResult {
  /** Every tensor returned (tuples flattened), as numbers. */
  readonly outputs: number[][];
  /** Kernels launched (`Device.dispatch` calls) by the run. */
  readonly dispatches: number;
}

/** Runs `fn` while counting `device.dispatch` calls. */
export async function countDispatches<T>(
  device: Device,
  fn: () => Promise<T>,
): Promise<[T, number]> {
  const d = device as { dispatch: Device["dispatch"] };
  const own = Object.hasOwn(d, "dispatch");
  const orig = d.dispatch;
  let n = 0;
  d.dispatch = (...args) => {
    n++;
    return orig.apply(device, args);
  };
  try {
    return [await fn(), n];
  } finally {
    if (own) d.dispatch = orig;
    else delete (d as { dispatch?: unknown }).dispatch;
  }
}

/** Reads every tensor of `v` into `out`, disposing those that are not in `keep`. */
async function flatten(
  v: VMValue | undefined,
  out: number[][],
  keep: readonly VMValue[],
): Promise<void> {
  if (v instanceof Tensor) {
    const a = await v.toArray();
    out.push(Array.from(a as ArrayLike<number>, Number));
    if (!keep.includes(v)) v.dispose();
  } else if (Array.isArray(v)) {
    for (const x of v as readonly VMValue[]) await flatten(x, out, keep);
  } else {
    throw new Error(`Unexpected VM result ${String(v)}`);
  }
}

/** Tensors on `device` from host data. */
export function toDevice(device: Device, inputs: readonly HostTensor[]): Tensor[] {
  return inputs.map((x) => Tensor.from(x.data, x.shape, { device }));
}

/**
 * Builds `mod` for `device` (with `pipeline` when given), runs `fn` once to warm up and once
 * counted, and returns the second run's outputs and kernel launches.
 */
export async function buildAndRun(
  mod: IRModule,
  device: Device,
  args: readonly VMValue[],
  options: { readonly pipeline?: readonly Pass[]; readonly fn?: string } = {},
): Promise<RunResult> {
  const exec = build(mod, options.pipeline ? { device, pipeline: options.pipeline } : { device });
  const vm = new VirtualMachine(exec, device);
  const fn = options.fn ?? "main";
  await flatten(await vm.run(fn, ...args), [], args.flat());
  const [value, dispatches] = await countDispatches(device, () => vm.run(fn, ...args));
  const outputs: number[][] = [];
  await flatten(value, outputs, args.flat());
  return { outputs, dispatches };
}

/** Asserts that two lists of outputs agree within `atol + rtol * |want|`. */
export function assertOutputsClose(
  got: readonly number[][],
  want: readonly number[][],
  options: { readonly rtol?: number; readonly atol?: number; readonly what?: string } = {},
): void {
  const { rtol = 1e-5, atol = 1e-5, what = "output" } = options;
  if (got.length !== want.length) {
    throw new Error(`${what}: ${got.length} tensors, expected ${want.length}`);
  }
  got.forEach((g, t) => {
    const w = want[t]!;
    if (g.length !== w.length) {
      throw new Error(`${what} ${t}: ${g.length} elements, expected ${w.length}`);
    }
    for (let i = 0; i < g.length; i++) {
      if (!(Math.abs(g[i]! - w[i]!) <= atol + rtol * Math.abs(w[i]!))) {
        throw new Error(`${what} ${t}[${i}] = ${g[i]}, expected ${w[i]}`);
      }
    }
  });
}

/**
 * The benchmark: our compiled kernels next to tfjs-webgpu, onnxruntime-web and jax-js on the
 * same adapter in the same run, as one Markdown table.
 *
 * ```sh
 * deno task bench                        # default adapter; small sizes on a software adapter
 * deno task bench --size full            # the sizes (matmul 1024-4096, 4096x4096 rows, 64M adds)
 * DENO_WEBGPU_BACKEND=vulkan deno task bench   # lavapipe on Mesa: adds float16 rows
 * deno task bench --only matmul,chain --peers tfjs,jax --json out.json
 * ```
 *
 * Every framework's output of every case is checked against a float64 reference (at sampled
 * positions, every element must be finite) before it is timed; a framework that cannot run a
 * case shows "n/a (reason)" and the run goes on.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { webgpu } from "../runtime/webgpu/device.ts";
import {
  benchCases,
  type BenchSize,
  caseInputs,
  checkOutput,
  reference,
  samplePositions,
} from "./_cases.ts";
import {
  type Framework,
  installDispatchCounter,
  measureAll,
  reasonOf,
  type Runner,
} from "./_harness.ts";
import { defaultScheduleRules, ours, selectRules } from "./_ours.ts";
import { type CaseResult, detailsTable, resultsTable } from "./_table.ts";

const PEERS = {
  tfjs: {
    title: "tfjs-webgpu 4.22.0",
    load: async () => (await import("./_tfjs.ts")).tfjsWebgpu(),
  },
  ort: {
    title: "ORT-web 1.30.0",
    load: async () => (await import("./_ort.ts")).onnxruntimeWebgpu(),
  },
  jax: { title: "jax-js 0.1.25", load: async () => (await import("./_jax.ts")).jaxJs() },
} as const;

type PeerKey = keyof typeof PEERS;

const USAGE = `Usage: deno task bench [--size small|full] [--only OPS] [--peers LIST] [--json FILE]
  --size    small (default on a software adapter) or full (default otherwise)
  --only    comma-separated ops or case ids (matmul, gemv, softmax, layer_norm, add, chain, matmul_f32_512)
  --peers   comma-separated peers to run: tfjs, ort, jax, or none (default: all)
  --rules   comma-separated dlight rules for our kernels (default: every exported rule;
            Fallback is always kept last)
  --reps    timed repetitions per case, median reported (default 7)
  --json    also write the results as JSON to FILE (needs --allow-write: run
            deno run --allow-read --allow-env --allow-write bench/main.ts ...)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      size: { type: "string" },
      only: { type: "string" },
      peers: { type: "string" },
      reps: { type: "string" },
      rules: { type: "string" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  installDispatchCounter();
  const adapter = await globalThis.navigator?.gpu?.requestAdapter();
  const device = adapter ? await webgpu({ adapter }) : undefined;
  if (!adapter || !device) {
    console.log("No WebGPU adapter (navigator.gpu.requestAdapter() gave none): nothing to run");
    return;
  }
  const software = adapter.info.isFallbackAdapter ||
    /llvmpipe|lavapipe|swiftshader|software/i.test(adapter.info.description);
  const size = (values.size ?? (software ? "small" : "full")) as BenchSize;
  if (size !== "small" && size !== "full") {
    throw new Error(`Unknown --size "${values.size}" (expected "small" or "full")`);
  }
  const f16 = device.target.supportsF16;
  const only = values.only?.split(",").map((s) => s.trim()).filter((s) => s);
  const cases = benchCases(size, { f16 }).filter((c) =>
    !only || only.includes(c.op) || only.includes(c.id)
  );
  if (cases.length === 0) {
    throw new Error(
      `--only "${values.only}" matches no case (cases: ${
        benchCases(size, { f16 }).map((c) => c.id).join(", ")
      })`,
    );
  }
  const reps = values.reps === undefined ? 7 : Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`Invalid --reps "${values.reps}"`);
  const peerKeys = values.peers === "none"
    ? []
    : (values.peers?.split(",").map((s) => s.trim()) ?? Object.keys(PEERS)) as PeerKey[];
  for (const k of peerKeys) {
    if (!(k in PEERS)) throw new Error(`Unknown peer "${k}" (expected tfjs, ort or jax)`);
  }

  const rules = values.rules === undefined
    ? defaultScheduleRules()
    : selectRules(values.rules.split(",").map((s) => s.trim()).filter((s) => s));
  const ruleNames = rules.map((r) => r.name);

  const backend = Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default";
  const adapterLine = `${adapter.info.description || adapter.info.vendor} (backend: ${backend}${
    adapter.info.isFallbackAdapter ? ", fallback adapter" : ""
  }, shader-f16: ${f16 ? "yes" : "no"})`;
  console.log(`# tvmts benchmark, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`adapter: ${adapterLine}`);
  console.log(
    `size: ${size}; schedule rules: ${ruleNames.join(", ")}; Deno ${Deno.version.deno}`,
  );

  const frameworks: (Framework | string)[] = [ours(device, { rules })];
  const names = ["ours"];
  for (const k of peerKeys) {
    names.push(PEERS[k].title);
    try {
      const fw = await PEERS[k].load();
      frameworks.push(fw);
      if (fw.adapter && fw.adapter !== device.name) {
        console.log(`warning: ${fw.name} runs on "${fw.adapter}", not on "${device.name}"`);
      }
    } catch (e) {
      frameworks.push(reasonOf(e));
      console.log(`${PEERS[k].title}: cannot start: ${reasonOf(e)}`);
    }
  }

  const rows: CaseResult[] = [];
  const t0 = performance.now();
  for (const c of cases) {
    const inputs = caseInputs(c);
    const positions = samplePositions(c);
    const ref = reference(c, inputs, positions);
    const runners: (Runner | string)[] = [];
    for (const fw of frameworks) {
      try {
        runners.push(typeof fw === "string" ? fw : await fw.prepare(c, inputs));
      } catch (e) {
        runners.push(reasonOf(e));
      }
    }
    const results = await measureAll(runners, (out) => checkOutput(c, out, positions, ref), {
      reps,
    });
    for (const r of runners) {
      try {
        if (typeof r !== "string") await r.dispose();
      } catch (e) {
        console.error(`  cannot dispose a runner: ${reasonOf(e)}`);
      }
    }
    results.forEach((m, i) => {
      const desc = m.ok
        ? `${m.ms.toFixed(3)} ms (${m.dispatches} dispatches)`
        : `n/a (${m.reason})`;
      console.error(`  ${c.id} / ${names[i]}: ${desc}`);
    });
    rows.push({ case: c, results });
  }
  const seconds = (performance.now() - t0) / 1000;

  console.log("");
  console.log(resultsTable(names, rows));
  console.log("");
  console.log(
    "Times are medians over repetitions of back-to-back calls, each repetition ended by waiting " +
      "for the GPU; every output is realized and was checked first. Ratio: best peer time / our " +
      "time (above 1: we are faster).",
  );
  console.log("");
  console.log(detailsTable(names, rows));
  console.log(`\n(${cases.length} cases in ${seconds.toFixed(0)} s)`);

  if (values.json) {
    const json = {
      date: new Date().toISOString(),
      adapter: adapterLine,
      size,
      rules: ruleNames,
      frameworks: names,
      rows: rows.map((r) => ({ case: r.case, results: r.results })),
    };
    await Deno.writeTextFile(values.json, JSON.stringify(json, null, 2));
  }
  for (const fw of frameworks) if (typeof fw !== "string") await fw.close?.();
  device.destroy();
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}

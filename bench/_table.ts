/**
 * Formatting the benchmark's results as Markdown tables.
 *
 * @module
 */

import type { BenchCase } from "./_cases.ts";
import type { Measurement } from "./_harness.ts";

/** One case's results, one measurement per framework (ours first). */
export interface CaseResult {
  /** The case. */
  readonly case: BenchCase;
  /** Measurements in column order. */
  readonly results: readonly Measurement[];
}

/** Throughput of a measurement in the case's unit. */
export function throughput(c: BenchCase, ms: number): number {
  switch (c.unit) {
    case "GFLOP/s":
      return c.work / (ms * 1e6);
    case "GB/s":
      return c.work / (ms * 1e6);
    case "us/kernel":
      return (ms * 1000) / c.work;
    default:
      return c.unit satisfies never;
  }
}

function fmt(x: number): string {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

function cell(c: BenchCase, m: Measurement): string {
  if (!m.ok) return `n/a (${m.reason.replaceAll("|", "/")})`;
  const t = throughput(c, m.ms);
  const rate = c.unit === "GFLOP/s" && t >= 1000
    ? `${fmt(t / 1000)} TFLOP/s`
    : `${fmt(t)} ${c.unit}`;
  return `${fmt(m.ms)} ms, ${rate}`;
}

/**
 * The speed of ours relative to the fastest peer that ran (best peer time / our time: above 1
 * means we are faster), or `undefined` when ours or every peer failed.
 */
export function speedRatio(r: CaseResult): number | undefined {
  const [ours, ...peers] = r.results;
  if (!ours?.ok) return undefined;
  const times = peers.flatMap((p) => p.ok ? [p.ms] : []);
  if (times.length === 0) return undefined;
  return Math.min(...times) / ours.ms;
}

/** The main table: one row per case, a column per framework, and the ratio to the best peer. */
export function resultsTable(names: readonly string[], rows: readonly CaseResult[]): string {
  const head = ["op", ...names, "ours vs best peer"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const ratio = speedRatio(r);
    const ratioText = ratio === undefined
      ? "n/a"
      : `${ratio.toFixed(2)}x ${ratio >= 1 ? "faster" : "slower"}`;
    lines.push(
      `| ${[r.case.label, ...r.results.map((m) => cell(r.case, m)), ratioText].join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

/**
 * Per framework: dispatches recorded per call, the checked error, and the spread of the
 * repetitions (fastest-slowest per-call time, repetitions x calls each).
 */
export function detailsTable(names: readonly string[], rows: readonly CaseResult[]): string {
  const head = ["op", ...names];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const cells = r.results.map((m) => {
      if (!m.ok) return "n/a";
      const lo = Math.min(...m.samples), hi = Math.max(...m.samples);
      return `${m.dispatches} dispatches; err ${m.error.toExponential(1)}; ${fmt(lo)}-${
        fmt(hi)
      } ms over ${m.samples.length} x ${m.iters} calls`;
    });
    lines.push(`| ${[r.case.label, ...cells].join(" | ")} |`);
  }
  return lines.join("\n");
}

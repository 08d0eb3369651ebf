import assert from "node:assert/strict";

Deno.test("examples/kernel.ts runs, matches the float64 reference and prints timings", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "examples/kernel.ts", "--size", "48"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(text, /^device: /m);
  assert.match(text, /^matmul 48x48x48: max relative error \d\.\d\de-\d+$/m);
  assert.match(text, /^softmax 48x48: max relative error \d\.\d\de-\d+$/m);
  assert.match(text, /^matmul\s+[\d.]+ ms\s+[\d.]+ GFLOP\/s$/m);
});

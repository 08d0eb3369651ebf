import assert from "node:assert/strict";

Deno.test("the demo prints a model, runs the kernels and the MLP", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "examples/demo.ts"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(text, /@R\.function\n {4}def main\(x: R\.Tensor\(\("n", 16\), dtype="float32"\)/);
  assert.match(text, /^matmul 128x128x128: max relative error/m);
  assert.match(text, /^ {2}batch 64: max \|error\| \d\.\d\de-\d+, [\d.]+ ms per run$/m);
});

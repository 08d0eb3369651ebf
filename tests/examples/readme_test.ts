import assert from "node:assert/strict";

/** Every ```ts block of README.md runs as pasted (with `./mod.ts` resolved to this checkout). */
const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const root = new URL("../../mod.ts", import.meta.url).href;

Deno.test("README has TypeScript examples", () => {
  assert.ok(blocks.length >= 2);
});

blocks.forEach((code, i) => {
  Deno.test(`README example ${i + 1} runs as pasted`, async () => {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/example.ts`;
    await Deno.writeTextFile(file, code.replaceAll('"./mod.ts"', JSON.stringify(root)));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-env", file],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    await Deno.remove(dir, { recursive: true });
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    // Comments of the form `// Float32Array(3) [ 64, 64, 64 ]` state the expected output.
    for (const m of code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)) {
      assert.ok(new TextDecoder().decode(out.stdout).includes(m[1]!), `expected output ${m[1]}`);
    }
  });
});

Deno.test("the README's error message for a bad matmul is the real one", async () => {
  const { op, R } = await import("../../mod.ts");
  const w = R.tensor([784, 128], "float32", "w");
  assert.throws(() => op.matmul(w, w), {
    message: "matmul: cannot contract (784, 128) with (784, 128): 128 != 784",
  });
  assert.ok(readme.includes("`matmul: cannot contract (784, 128) with (784, 128):\n128 != 784`"));
});

Deno.test("the README's error message for a bad VM call is the real one", async () => {
  const { BlockBuilder, build, cpu, op, R, Tensor, tir, VirtualMachine } = await import(
    "../../mod.ts"
  );
  const n = tir.sizeVar("n", "int64");
  const bb = new BlockBuilder();
  const x = R.tensor([n, 4], "float32", "x");
  const w = R.tensor([4, 3], "float32", "w");
  bb.function(
    "main",
    { x, w },
    () => bb.dataflow(() => bb.emitOutput(op.nn.relu(op.matmul(x, w)))),
  );
  const device = cpu();
  const vm = new VirtualMachine(build(bb.get(), { device }), device);
  const msg =
    'main: parameter "x" expects R.Tensor((n, 4), "float32"), got a tensor of shape (7, 5)';
  await assert.rejects(
    () =>
      vm.run(
        "main",
        Tensor.from(new Float32Array(35), [7, 5], { device }),
        Tensor.from(new Float32Array(12), [4, 3], { device }),
      ),
    { message: msg },
  );
  assert.ok(readme.replaceAll("\n", " ").includes(msg));
});

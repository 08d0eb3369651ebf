import assert from "node:assert/strict";

/**
 * Every ```ts block of docs/passes.md runs as pasted from the repository root (imports starting
 * with `./` resolved against this checkout), and prints what its `// ...` comments state.
 */
const doc = await Deno.readTextFile(new URL("../../docs/passes.md", import.meta.url));
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const root = new URL("../../", import.meta.url).href;

Deno.test("docs/passes.md has examples of a pass, a pipeline and instruments", () => {
  assert.ok(blocks.length >= 4, `${blocks.length} examples`);
  assert.ok(blocks.some((b) => b.includes("relaxFunctionPass(")));
  assert.ok(blocks.some((b) => b.includes("defaultPipeline()")));
  assert.ok(blocks.some((b) => b.includes("timingInstrument()")));
});

blocks.forEach((code, i) => {
  Deno.test(`docs/passes.md example ${i + 1} runs as pasted`, async () => {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/example.ts`;
    await Deno.writeTextFile(file, code.replace(/from "\.\/([^"]+)"/g, `from "${root}$1"`));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-env", file],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    await Deno.remove(dir, { recursive: true });
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    for (const m of code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)) {
      assert.ok(stdout.includes(m[1]!), `expected output ${m[1]} in\n${stdout}`);
    }
  });
});

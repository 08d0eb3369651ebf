/**
 * Every fixture in `fixtures/` parses, round-trips structurally through the printer, and (unless
 * its name starts with `alt_`, for alternative spellings the printer does not produce) prints
 * back to exactly its own text. A fixture holding a single function (no `@I.ir_module`) is
 * printed as that function.
 */
import assert from "node:assert/strict";
import type { IRModule } from "../../ir/module.ts";
import { assertStructuralEqual } from "../../ir/structural.ts";
import { parseTVMScript } from "../../script/parser/mod.ts";
import { printTVMScript } from "../../script/printer.ts";

const dir = new URL("./fixtures/", import.meta.url);
const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".py")).sort();

function printed(mod: IRModule, text: string): string {
  const isModule = /^@I\.ir_module$/m.test(text);
  return printTVMScript(isModule ? mod : [...mod.functions.values()][0]) + "\n";
}

/** The first differing line, for readable failures. */
function firstDiff(want: string, got: string): string {
  const a = want.split("\n"), b = got.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `line ${i + 1}:\n  want: ${JSON.stringify(a[i])}\n  got:  ${JSON.stringify(b[i])}`;
    }
  }
  return "(no difference)";
}

Deno.test("there are at least 45 fixtures, most of them canonical", () => {
  assert.ok(names.length >= 45, `only ${names.length} fixtures`);
  assert.ok(names.filter((n) => !n.startsWith("alt_")).length >= 45);
});

for (const name of names) {
  Deno.test(`fixture ${name} round-trips`, () => {
    const text = Deno.readTextFileSync(new URL(name, dir));
    const mod = parseTVMScript(text, { name });
    const out = printed(mod, text);
    if (!name.startsWith("alt_")) {
      assert.ok(out === text, `${name} does not print back to itself at ${firstDiff(text, out)}`);
    }
    const again = parseTVMScript(out, { name: `${name} (printed)` });
    assertStructuralEqual(again, mod);
  });
}

import assert from "node:assert/strict";
import type { IRModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { checkWellFormed } from "../../../ir/well_formed.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { convertLayout, type DesiredLayouts } from "../../../transform/relax/convert_layout.ts";
import { build } from "../../../runtime/build.ts";
import { cpu } from "../../../runtime/js/device.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { VirtualMachine } from "../../../runtime/vm/interpreter/virtual_machine.ts";

const T = (shape: string) => `R.Tensor(${shape}, dtype="float32")`;
const NHWC: DesiredLayouts = { "relax.nn.conv2d": ["NHWC", "OHWI"] };
const NCHW: DesiredLayouts = { "relax.nn.conv2d": ["NCHW", "OIHW"] };

const module = (params: string, ret: string, body: string) =>
  parseTVMScript(`
@I.ir_module
class Module:
    @R.function
    def main(${params}) -> ${T(ret)}:
        with R.dataflow():
${body.trim().split("\n").map((l) => "            " + l.trim()).join("\n")}
            R.output(gv)
        return gv
`);

function check(before: IRModule, desired: DesiredLayouts, expected: IRModule) {
  const after = convertLayout(desired)(before);
  checkWellFormed(after);
  assertStructuralEqual(after, expected);
  assertStructuralEqual(parseTVMScript(printTVMScript(after)), expected);
}

const XW = `x: ${T("(2, 3, 28, 28)")}, w: ${T("(4, 3, 3, 3)")}`;
const conv = module(XW, "(2, 4, 26, 26)", `gv: ${T("(2, 4, 26, 26)")} = R.nn.conv2d(x, w)`);

Deno.test("conv2d to NHWC/OHWI: its inputs and output are transformed", () => {
  check(
    conv,
    NHWC,
    module(
      XW,
      "(2, 4, 26, 26)",
      `
    lv: ${T("(2, 28, 28, 3)")} = R.layout_transform(x, src_layout="NCHW", dst_layout="NHWC")
    lv1: ${T("(4, 3, 3, 3)")} = R.layout_transform(w, src_layout="OIHW", dst_layout="OHWI")
    lv2: ${
        T("(2, 26, 26, 4)")
      } = R.nn.conv2d(lv, lv1, data_layout="NHWC", kernel_layout="OHWI", out_layout="NHWC")
    gv: ${T("(2, 4, 26, 26)")} = R.layout_transform(lv2, src_layout="NHWC", dst_layout="NCHW")`,
    ),
  );
});

const XWB = `${XW}, b: ${T("(1, 4, 1, 1)")}`;
const chain = module(
  XWB,
  "(2, 4, 13, 13)",
  `
  lv: ${T("(2, 4, 26, 26)")} = R.nn.conv2d(x, w)
  lv1: ${T("(2, 4, 26, 26)")} = R.nn.relu(lv)
  lv2: ${T("(2, 4, 26, 26)")} = R.add(lv1, b)
  lv3: ${T("(2, 4, 13, 13)")} = R.nn.max_pool2d(lv2, pool_size=[2, 2], strides=[2, 2])
  gv: ${T("(2, 4, 13, 13)")} = R.nn.softmax(lv3, axis=1)`,
);

Deno.test("the new layout flows through relu, add, pooling and softmax", () => {
  check(
    chain,
    NHWC,
    module(
      XWB,
      "(2, 4, 13, 13)",
      `
    lv: ${T("(2, 28, 28, 3)")} = R.layout_transform(x, src_layout="NCHW", dst_layout="NHWC")
    lv_1: ${T("(4, 3, 3, 3)")} = R.layout_transform(w, src_layout="OIHW", dst_layout="OHWI")
    lv_2: ${
        T("(2, 26, 26, 4)")
      } = R.nn.conv2d(lv, lv_1, data_layout="NHWC", kernel_layout="OHWI", out_layout="NHWC")
    lv1: ${T("(2, 26, 26, 4)")} = R.nn.relu(lv_2)
    lv_3: ${T("(1, 1, 1, 4)")} = R.layout_transform(b, src_layout="NCHW", dst_layout="NHWC")
    lv2: ${T("(2, 26, 26, 4)")} = R.add(lv1, lv_3)
    lv3: ${
        T("(2, 13, 13, 4)")
      } = R.nn.max_pool2d(lv2, pool_size=[2, 2], strides=[2, 2], layout="NHWC", out_layout="NHWC")
    gv_1: ${T("(2, 13, 13, 4)")} = R.nn.softmax(lv3, axis=3)
    gv: ${T("(2, 4, 13, 13)")} = R.layout_transform(gv_1, src_layout="NHWC", dst_layout="NCHW")`,
    ),
  );
});

Deno.test("converting back cancels every inverse pair and restores the original", () => {
  const nhwc = convertLayout(NHWC)(chain);
  const back = convertLayout(NCHW)(nhwc);
  checkWellFormed(back);
  assertStructuralEqual(back, chain);
});

Deno.test("layout_transforms already in the program cancel with the new ones", () => {
  const before = module(
    XW,
    "(2, 4, 26, 26)",
    `
    lv: ${T("(2, 28, 28, 3)")} = R.layout_transform(x, src_layout="NCHW", dst_layout="NHWC")
    lv1: ${
      T("(2, 26, 26, 4)")
    } = R.nn.conv2d(lv, w, data_layout="NHWC", kernel_layout="OIHW", out_layout="NHWC")
    gv: ${T("(2, 4, 26, 26)")} = R.layout_transform(lv1, src_layout="NHWC", dst_layout="NCHW")`,
  );
  check(before, NCHW, conv);
});

Deno.test("no-ops: the desired layouts already hold, or nothing has a desired layout", () => {
  assert.equal(convertLayout(NCHW)(chain), chain);
  assert.equal(convertLayout({ "relax.nn.max_pool2d": ["NCHW"] })(chain), chain);
  const noConv = module(`x: ${T("(2, 3)")}`, "(2, 3)", `gv: ${T("(2, 3)")} = R.nn.relu(x)`);
  assert.equal(convertLayout(NHWC)(noConv), noConv);
});

Deno.test("operators without a layout rule get their inputs back in the original layout", () => {
  const G = `${XW}, g: ${T("(4,)")}`;
  const BN = `R.Tuple(${T("(2, 4, 26, 26)")}, ${T("(4,)")}, ${T("(4,)")})`;
  const BN2 = `R.Tuple(${T("(2, 26, 26, 4)")}, ${T("(4,)")}, ${T("(4,)")})`;
  const before = module(
    G,
    "(2, 4, 676)",
    `
    lv: ${T("(2, 4, 26, 26)")} = R.nn.conv2d(x, w)
    bn: ${BN} = R.nn.batch_norm(lv, g, g, g, g, axis=1)
    lv1: ${T("(2, 4, 26, 26)")} = bn[0]
    gv: ${T("(2, 4, 676)")} = R.reshape(lv1, R.shape([2, 4, 676]))`,
  );
  check(
    before,
    NHWC,
    module(
      G,
      "(2, 4, 676)",
      `
    lv: ${T("(2, 28, 28, 3)")} = R.layout_transform(x, src_layout="NCHW", dst_layout="NHWC")
    lv_1: ${T("(4, 3, 3, 3)")} = R.layout_transform(w, src_layout="OIHW", dst_layout="OHWI")
    lv_2: ${
        T("(2, 26, 26, 4)")
      } = R.nn.conv2d(lv, lv_1, data_layout="NHWC", kernel_layout="OHWI", out_layout="NHWC")
    bn: ${BN2} = R.nn.batch_norm(lv_2, g, g, g, g, axis=3)
    lv1: ${T("(2, 26, 26, 4)")} = bn[0]
    lv_3: ${T("(2, 4, 26, 26)")} = R.layout_transform(lv1, src_layout="NHWC", dst_layout="NCHW")
    gv: ${T("(2, 4, 676)")} = R.reshape(lv_3, R.shape([2, 4, 676]))`,
    ),
  );
});

Deno.test("a lower-rank operand first in an add sends the result back (TVM's rule)", () => {
  const P = `${XW}, b: ${T("(4, 1, 1)")}`;
  const before = module(
    P,
    "(2, 4, 26, 26)",
    `
    lv: ${T("(2, 4, 26, 26)")} = R.nn.conv2d(x, w)
    gv: ${T("(2, 4, 26, 26)")} = R.add(b, lv)`,
  );
  check(
    before,
    NHWC,
    module(
      P,
      "(2, 4, 26, 26)",
      `
    lv: ${T("(2, 28, 28, 3)")} = R.layout_transform(x, src_layout="NCHW", dst_layout="NHWC")
    lv_1: ${T("(4, 3, 3, 3)")} = R.layout_transform(w, src_layout="OIHW", dst_layout="OHWI")
    lv_2: ${
        T("(2, 26, 26, 4)")
      } = R.nn.conv2d(lv, lv_1, data_layout="NHWC", kernel_layout="OHWI", out_layout="NHWC")
    lv_3: ${T("(2, 4, 26, 26)")} = R.layout_transform(lv_2, src_layout="NHWC", dst_layout="NCHW")
    gv: ${T("(2, 4, 26, 26)")} = R.add(b, lv_3)`,
    ),
  );
});

Deno.test("bad desired layouts are reported", () => {
  const bad = (d: DesiredLayouts, message: string | RegExp) =>
    assert.throws(() => convertLayout(d), { message });
  bad({ "relax.foo": ["NHWC"] }, 'ConvertLayout: no layout rule for "relax.foo"');
  bad({ "relax.reshape": ["NHWC"] }, 'ConvertLayout: no layout rule for "relax.reshape"');
  bad(
    { "relax.nn.relu": ["NHWC"] },
    'ConvertLayout: "relax.nn.relu" follows the layout of its input and takes no desired layout',
  );
  bad(
    { "relax.nn.conv2d": ["NHWC"] },
    'ConvertLayout: "relax.nn.conv2d" takes 2 to 3 desired layouts (data, kernel[, output]), got 1',
  );
  bad(
    { "relax.nn.conv2d": ["NCHW4c", "OIHW"] },
    /desired layout "NCHW4c" for "relax.nn.conv2d" must be distinct capital letters/,
  );
  assert.throws(
    () => convertLayout({ "relax.nn.conv2d": ["NCWX", "OIHW"] })(conv),
    {
      message:
        'ConvertLayout: cannot convert the data layout "NCHW" of "relax.nn.conv2d" to "NCWX" (only permutations of the same axes are supported)',
    },
  );
});

Deno.test("the converted module computes the same result on the js target", async () => {
  const dev = cpu();
  const data = (n: number, s: number) =>
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + s));
  const shapes = [[2, 3, 28, 28], [4, 3, 3, 3], [1, 4, 1, 1]];
  const args = shapes.map((s, i) =>
    Tensor.from(data(s.reduce((a, b) => a * b), i), s, { device: dev })
  );
  const run = async (m: IRModule) => {
    const y = await new VirtualMachine(build(m, { device: dev }), dev).run("main", ...args);
    return await (y as Tensor).toArray() as Float32Array;
  };
  const want = await run(chain);
  const got = await run(convertLayout(NHWC)(chain));
  assert.equal(got.length, 2 * 4 * 13 * 13);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-6, `at ${i}`);
});

Deno.test("a pool given a layout converts alone; a following conv2d without one follows it", () => {
  const P = `x: ${T("(2, 4, 8, 8)")}, w: ${T("(4, 4, 1, 1)")}`;
  const before = module(
    P,
    "(2, 4, 4, 4)",
    `
    lv: ${T("(2, 4, 4, 4)")} = R.nn.avg_pool2d(x, pool_size=[2, 2], strides=[2, 2])
    gv: ${T("(2, 4, 4, 4)")} = R.nn.conv2d(lv, w)`,
  );
  check(
    before,
    { "relax.nn.avg_pool2d": ["NHWC"] },
    module(
      P,
      "(2, 4, 4, 4)",
      `
    lv: ${T("(2, 8, 8, 4)")} = R.layout_transform(x, src_layout="NCHW", dst_layout="NHWC")
    lv_1: ${
        T("(2, 4, 4, 4)")
      } = R.nn.avg_pool2d(lv, pool_size=[2, 2], strides=[2, 2], layout="NHWC", out_layout="NHWC")
    lv_2: ${
        T("(2, 4, 4, 4)")
      } = R.nn.conv2d(lv_1, w, data_layout="NHWC", kernel_layout="OIHW", out_layout="NHWC")
    gv: ${T("(2, 4, 4, 4)")} = R.layout_transform(lv_2, src_layout="NHWC", dst_layout="NCHW")`,
    ),
  );
});

Deno.test("back-to-back convolutions need transforms only at the boundaries", () => {
  const P = `x: ${T("(1, 4, 8, 8)")}, w: ${T("(4, 4, 3, 3)")}`;
  const before = module(
    P,
    "(1, 4, 4, 4)",
    `
    lv: ${T("(1, 4, 6, 6)")} = R.nn.conv2d(x, w)
    gv: ${T("(1, 4, 4, 4)")} = R.nn.conv2d(lv, w)`,
  );
  check(
    before,
    NHWC,
    module(
      P,
      "(1, 4, 4, 4)",
      `
    lv: ${T("(1, 8, 8, 4)")} = R.layout_transform(x, src_layout="NCHW", dst_layout="NHWC")
    lv_1: ${T("(4, 3, 3, 4)")} = R.layout_transform(w, src_layout="OIHW", dst_layout="OHWI")
    lv_2: ${
        T("(1, 6, 6, 4)")
      } = R.nn.conv2d(lv, lv_1, data_layout="NHWC", kernel_layout="OHWI", out_layout="NHWC")
    lv_3: ${T("(4, 3, 3, 4)")} = R.layout_transform(w, src_layout="OIHW", dst_layout="OHWI")
    lv_4: ${
        T("(1, 4, 4, 4)")
      } = R.nn.conv2d(lv_2, lv_3, data_layout="NHWC", kernel_layout="OHWI", out_layout="NHWC")
    gv: ${T("(1, 4, 4, 4)")} = R.layout_transform(lv_4, src_layout="NHWC", dst_layout="NCHW")`,
    ),
  );
});

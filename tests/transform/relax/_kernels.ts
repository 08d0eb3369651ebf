/**
 * TVMScript text of small kernels used by the FuseOps/FuseTIR tests, in the form `LegalizeOps`
 * and `te.createPrimFunc` produce (private, root block, `op_pattern` set).
 *
 * @module
 */

function dims(shape: readonly (number | string)[]): string {
  const ds = shape.map((d) => (typeof d === "number" ? `T.int64(${d})` : d));
  return `(${ds.join(", ")}${ds.length === 1 ? "," : ""})`;
}

function buf(name: string, shape: readonly (number | string)[], dtype = "float32"): string {
  return `${name}: T.Buffer(${dims(shape)}, "${dtype}")`;
}

const AX = ["v_i0", "v_i1", "v_i2"];
const LOOP = ["i0", "i1", "i2"];

function symbolic(shape: readonly (number | string)[]): string {
  const vars = [...new Set(shape.filter((d): d is string => typeof d === "string"))];
  return vars.map((v) => `        ${v} = T.int64()\n`).join("");
}

function loops(shape: readonly (number | string)[]): string {
  const ds = shape.map((d) => (typeof d === "number" ? `T.int64(${d})` : d));
  return shape.length === 1
    ? `        for i0 in range(${ds[0]}):\n`
    : `        for ${LOOP.slice(0, shape.length).join(", ")} in T.grid(${ds.join(", ")}):\n`;
}

function remap(n: number, kinds: string): string {
  return n === 1 && kinds === "S"
    ? `                v_i0 = T.axis.spatial(${"EXTENT"}, i0)\n`
    : `                ${AX.slice(0, n).join(", ")} = T.axis.remap("${kinds}", [${
      LOOP.slice(0, n).join(", ")
    }])\n`;
}

/** An elementwise unary kernel `out = expr(A)`; `expr` uses `X` for the loaded element. */
export function unary(
  name: string,
  shape: readonly (number | string)[],
  expr: string,
  pattern = 0,
): string {
  const idx = AX.slice(0, shape.length).join(", ");
  const ext = typeof shape[0] === "number" ? `T.int64(${shape[0]})` : String(shape[0]);
  return `
    @T.prim_func(private=True)
    def ${name}(${buf("A", shape)}, ${buf("compute", shape)}):
        T.func_attr({"op_pattern": ${pattern}, "tir.noalias": True})
${symbolic(shape)}${loops(shape)}            with T.sblock("compute"):
${
    remap(shape.length, "S".repeat(shape.length)).replace("EXTENT", ext)
  }                T.reads(A[${idx}])
                T.writes(compute[${idx}])
                compute[${idx}] = ${expr.replaceAll("X", `A[${idx}]`)}
`;
}

/** An elementwise add of two same-shape tensors, or with `B` broadcast along the last axis. */
export function add(name: string, shape: readonly (number | string)[], bias = false): string {
  const idx = AX.slice(0, shape.length).join(", ");
  const bidx = bias ? AX[shape.length - 1]! : idx;
  const bshape = bias ? [shape[shape.length - 1]!] : shape;
  const ext = typeof shape[0] === "number" ? `T.int64(${shape[0]})` : String(shape[0]);
  return `
    @T.prim_func(private=True)
    def ${name}(${buf("A", shape)}, ${buf("B", bshape)}, ${buf("T_add", shape)}):
        T.func_attr({"op_pattern": 0, "tir.noalias": True})
${symbolic(shape)}${loops(shape)}            with T.sblock("T_add"):
${
    remap(shape.length, "S".repeat(shape.length)).replace("EXTENT", ext)
  }                T.reads(A[${idx}], B[${bidx}])
                T.writes(T_add[${idx}])
                T_add[${idx}] = A[${idx}] + B[${bidx}]
`;
}

/** `C[i, j] = sum_k A[i, k] * B[k, j]`. */
export function matmul(name: string, m: number, k: number, n: number): string {
  return `
    @T.prim_func(private=True)
    def ${name}(${buf("A", [m, k])}, ${buf("B", [k, n])}, ${buf("matmul", [m, n])}):
        T.func_attr({"op_pattern": 4, "tir.noalias": True})
        for i0, i1, k in T.grid(T.int64(${m}), T.int64(${n}), T.int64(${k})):
            with T.sblock("matmul"):
                v_i0, v_i1, v_k = T.axis.remap("SSR", [i0, i1, k])
                T.reads(A[v_i0, v_k], B[v_k, v_i1])
                T.writes(matmul[v_i0, v_i1])
                with T.init():
                    matmul[v_i0, v_i1] = T.float32(0.0)
                matmul[v_i0, v_i1] = matmul[v_i0, v_i1] + A[v_i0, v_k] * B[v_k, v_i1]
`;
}

/** `B[i] = sum_k A[i, k]`. */
export function rowSum(name: string, m: number, n: number): string {
  return `
    @T.prim_func(private=True)
    def ${name}(${buf("A", [m, n])}, ${buf("A_red", [m])}):
        T.func_attr({"op_pattern": 3, "tir.noalias": True})
        for i0, k in T.grid(T.int64(${m}), T.int64(${n})):
            with T.sblock("A_red"):
                v_i0, v_k = T.axis.remap("SR", [i0, k])
                T.reads(A[v_i0, v_k])
                T.writes(A_red[v_i0])
                with T.init():
                    A_red[v_i0] = T.float32(0.0)
                A_red[v_i0] = A_red[v_i0] + A[v_i0, v_k]
`;
}

/** `B[j, i] = A[i, j]`. */
export function transpose(name: string, m: number, n: number): string {
  return `
    @T.prim_func(private=True)
    def ${name}(${buf("A", [m, n])}, ${buf("T_transpose", [n, m])}):
        T.func_attr({"op_pattern": 2, "tir.noalias": True})
        for i0, i1 in T.grid(T.int64(${n}), T.int64(${m})):
            with T.sblock("T_transpose"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(A[v_i1, v_i0])
                T.writes(T_transpose[v_i0, v_i1])
                T_transpose[v_i0, v_i1] = A[v_i1, v_i0]
`;
}

/** `R.Tensor((...), dtype="float32")`. */
export function rt(shape: readonly (number | string)[]): string {
  return `R.Tensor((${shape.join(", ")}${shape.length === 1 ? "," : ""}), dtype="float32")`;
}

/** A two-output kernel: `(A * 2, A + 1)`; `pattern` is omitted (opaque) when undefined. */
export function twoOutputs(name: string, m: number, n: number, pattern?: number): string {
  const attr = pattern === undefined ? "" : `"op_pattern": ${pattern}, `;
  return `
    @T.prim_func(private=True)
    def ${name}(${buf("A", [m, n])}, ${buf("T_double", [m, n])}, ${buf("T_inc", [m, n])}):
        T.func_attr({${attr}"tir.noalias": True})
        for i0, i1 in T.grid(T.int64(${m}), T.int64(${n})):
            with T.sblock("T_double"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(A[v_i0, v_i1])
                T.writes(T_double[v_i0, v_i1])
                T_double[v_i0, v_i1] = A[v_i0, v_i1] * T.float32(2.0)
        for i0, i1 in T.grid(T.int64(${m}), T.int64(${n})):
            with T.sblock("T_inc"):
                v_i0, v_i1 = T.axis.remap("SS", [i0, i1])
                T.reads(A[v_i0, v_i1])
                T.writes(T_inc[v_i0, v_i1])
                T_inc[v_i0, v_i1] = A[v_i0, v_i1] + T.float32(1.0)
`;
}

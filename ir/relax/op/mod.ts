/**
 * Relax operators: constructors that build calls with inferred StructInfo (`op.add(x, y)`,
 * `op.nn.softmax(x, { axis: -1 })`), and the registry behind them.
 *
 * @module
 */
export * from "./elementwise.ts";
export * from "./linalg.ts";
export * from "./manipulate.ts";
export * from "./indexing.ts";
export {
  arange,
  astype,
  full,
  fullLike,
  ones,
  onesLike,
  tril,
  triu,
  where,
  zeros,
  zerosLike,
} from "./create.ts";
export * as nn from "./nn.ts";
export * as image from "./image.ts";
export * from "./registry.ts";
export * from "./call.ts";

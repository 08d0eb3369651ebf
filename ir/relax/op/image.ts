/**
 * Image operators (`relax.image.*`).
 *
 * @module
 */
export { resize2d } from "./create.ts";
export type { Resize2dOptions } from "./create.ts";

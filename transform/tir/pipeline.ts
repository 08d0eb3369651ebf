/**
 * The pipeline that lowers scheduled TIR (blocks, N-D buffers) to the flat form code generators
 * take.
 *
 * @module
 */

import { type Pass, sequential } from "../pass.ts";
import { compactBufferAllocation } from "./compact_buffer_allocation.ts";
import { convertBlocksToOpaque } from "./convert_blocks_to_opaque.ts";
import { flattenBuffer } from "./flatten_buffer.ts";
import { lowerInitBlock } from "./lower_init_block.ts";
import { lowerOpaqueBlock } from "./lower_opaque_block.ts";
import { planAndUpdateBufferAllocationLocation } from "./plan_buffer_allocation.ts";
import { simplifyPass } from "./simplify.ts";
import { threadSync } from "./thread_sync.ts";
import { vectorizeLoop } from "./vectorize_loop.ts";

/**
 * The TIR lowering pipeline, `"LowerTIR"`, as a flat list of passes:
 *
 * 1. {@link lowerInitBlock}: reduction `init` becomes `if (reduce vars at start) init`;
 * 2. {@link planAndUpdateBufferAllocationLocation}: allocations move to where they are used;
 * 3. {@link convertBlocksToOpaque}: block iteration variables become their bound values;
 * 4. {@link compactBufferAllocation}: allocations shrink to the region used;
 * 5. {@link lowerOpaqueBlock}: blocks go, leaving `AllocBuffer`, `IfThenElse` and loops;
 * 6. {@link flattenBuffer}: every access becomes one-dimensional;
 * 7. {@link simplifyPass}: indices and conditions are simplified, no-ops removed;
 * 8. {@link vectorizeLoop}: `vectorized` loops become vector code where they can;
 * 9. {@link threadSync}: barriers go where threads share data through shared memory.
 *
 * The result satisfies `verifyLowered`.
 */
export function lowerTIRPipeline(): Pass & { readonly passes: readonly Pass[] } {
  return sequential([
    lowerInitBlock,
    planAndUpdateBufferAllocationLocation,
    convertBlocksToOpaque,
    compactBufferAllocation,
    lowerOpaqueBlock,
    flattenBuffer,
    simplifyPass,
    vectorizeLoop,
    threadSync,
  ], "LowerTIR");
}

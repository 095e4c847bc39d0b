import { IQ_GRID_WORDS } from './iq-grids.ts';

/**
 * Sizes of the kernel library's own GPU buffers (src/gpu/kernels.ts), apart so that the memory plan
 * (src/engine/memory-plan.ts) can count them without a GPU: the uniform arena, where parameter
 * blocks are interned in UNIFORM_SLOTS slots of UNIFORM_SLOT bytes (the binding offset alignment
 * of uniform buffers is at most 256), the 16-byte step uniform and the i-quant grids.
 */
export const UNIFORM_SLOT = 256;
export const UNIFORM_SLOTS = 1024;

/** GPU bytes of the kernel library's buffers, without layer timing (PassTimer). */
export function kernelFixedBytes(): number {
  return UNIFORM_SLOT * UNIFORM_SLOTS + 16 + IQ_GRID_WORDS.byteLength;
}

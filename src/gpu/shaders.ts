import quantSrc from '../../shaders/quant.wgsl?raw';
import matmulSrc from '../../shaders/matmul.wgsl?raw';
import getRowsSrc from '../../shaders/get_rows.wgsl?raw';
import rmsnormSrc from '../../shaders/rmsnorm.wgsl?raw';
import ropeSrc from '../../shaders/rope.wgsl?raw';
import attentionSrc from '../../shaders/attention.wgsl?raw';
import elementwiseSrc from '../../shaders/elementwise.wgsl?raw';
import samplingSrc from '../../shaders/sampling.wgsl?raw';
import kvCacheSrc from '../../shaders/kv_cache.wgsl?raw';
import copySrc from '../../shaders/copy.wgsl?raw';
import deltanetSrc from '../../shaders/deltanet.wgsl?raw';
import { LayerstreamError } from '../errors.ts';
import { IQ_GRID_OFFSETS } from './iq-grids.ts';

/**
 * ggml types the kernels can read, with the dequant4 function in shaders/quant.wgsl and the block
 * geometry it works in (F32/F16/BF16 use 4-element "blocks"; ggml block sizes otherwise). `grid`:
 * the decoder reads the i-quant lookup tables (the GRIDS buffer, src/gpu/iq-grids.ts).
 * Bits per weight = 8 · blockBytes / blockElems.
 */
export const GPU_TYPES: Readonly<Record<string, { fn: string; blockElems: number; blockBytes: number; grid?: true }>> = {
  F32: { fn: 'dq4_f32', blockElems: 4, blockBytes: 16 },
  F16: { fn: 'dq4_f16', blockElems: 4, blockBytes: 8 },
  BF16: { fn: 'dq4_bf16', blockElems: 4, blockBytes: 8 },
  Q8_0: { fn: 'dq4_q8_0', blockElems: 32, blockBytes: 34 },
  Q4_0: { fn: 'dq4_q4_0', blockElems: 32, blockBytes: 18 },
  Q4_1: { fn: 'dq4_q4_1', blockElems: 32, blockBytes: 20 },
  Q5_0: { fn: 'dq4_q5_0', blockElems: 32, blockBytes: 22 },
  Q5_1: { fn: 'dq4_q5_1', blockElems: 32, blockBytes: 24 },
  Q2_K: { fn: 'dq4_q2_k', blockElems: 256, blockBytes: 84 },
  Q3_K: { fn: 'dq4_q3_k', blockElems: 256, blockBytes: 110 },
  Q4_K: { fn: 'dq4_q4_k', blockElems: 256, blockBytes: 144 },
  Q5_K: { fn: 'dq4_q5_k', blockElems: 256, blockBytes: 176 },
  Q6_K: { fn: 'dq4_q6_k', blockElems: 256, blockBytes: 210 },
  IQ4_NL: { fn: 'dq4_iq4_nl', blockElems: 32, blockBytes: 18 },
  IQ4_XS: { fn: 'dq4_iq4_xs', blockElems: 256, blockBytes: 136 },
  IQ3_S: { fn: 'dq4_iq3_s', blockElems: 256, blockBytes: 110, grid: true },
  IQ3_XXS: { fn: 'dq4_iq3_xxs', blockElems: 256, blockBytes: 98, grid: true },
  IQ2_S: { fn: 'dq4_iq2_s', blockElems: 256, blockBytes: 82, grid: true },
  IQ2_XS: { fn: 'dq4_iq2_xs', blockElems: 256, blockBytes: 74, grid: true },
  IQ2_XXS: { fn: 'dq4_iq2_xxs', blockElems: 256, blockBytes: 66, grid: true },
  IQ1_M: { fn: 'dq4_iq1_m', blockElems: 256, blockBytes: 56, grid: true },
  IQ1_S: { fn: 'dq4_iq1_s', blockElems: 256, blockBytes: 50, grid: true },
  TQ2_0: { fn: 'dq4_tq2_0', blockElems: 256, blockBytes: 66 },
  TQ1_0: { fn: 'dq4_tq1_0', blockElems: 256, blockBytes: 54 },
  MXFP4: { fn: 'dq4_mxfp4', blockElems: 32, blockBytes: 17 },
  NVFP4: { fn: 'dq4_nvfp4', blockElems: 64, blockBytes: 36 },
};

/** Whether kernels reading `type` need the GRIDS buffer bound (binding 7). */
export function needsGrids(type: string): boolean {
  return GPU_TYPES[type]?.grid === true;
}

/** WGSL constants: word offset of each lookup table in GRIDS (the same layout as IQ_GRID_WORDS). */
const gridOffsets = Object.entries({
  G_KSIGNS: IQ_GRID_OFFSETS.ksigns_iq2xs,
  G_IQ2XXS: IQ_GRID_OFFSETS.iq2xxs_grid,
  G_IQ2XS: IQ_GRID_OFFSETS.iq2xs_grid,
  G_IQ2S: IQ_GRID_OFFSETS.iq2s_grid,
  G_IQ3XXS: IQ_GRID_OFFSETS.iq3xxs_grid,
  G_IQ3S: IQ_GRID_OFFSETS.iq3s_grid,
  G_IQ1S: IQ_GRID_OFFSETS.iq1s_grid,
}).map(([k, v]) => `const ${k}: u32 = ${v}u;`).join('\n');

export function isGpuType(name: string): boolean {
  return name in GPU_TYPES;
}

const plain = { rmsnorm: rmsnormSrc, rope: ropeSrc, attention: attentionSrc, kv_cache: kvCacheSrc, elementwise: elementwiseSrc, sampling: samplingSrc, copy: copySrc, deltanet: deltanetSrc } as const;
const quantized = { matmul: matmulSrc, get_rows: getRowsSrc } as const;
export type PlainKernel = keyof typeof plain;
export type QuantKernel = keyof typeof quantized;

/** WGSL for a kernel that reads weights of ggml type `type` (quant.wgsl + dequant4 binding + kernel). */
export function quantKernelSource(kernel: QuantKernel, type: string): string {
  const t = GPU_TYPES[type];
  if (!t) throw new LayerstreamError('unsupported_tensor_type', `no GPU kernel for ggml type ${type}`);
  return `${gridOffsets}
${quantSrc}
const BLOCK_ELEMS: u32 = ${t.blockElems}u;
const BLOCK_BYTES: u32 = ${t.blockBytes}u;
fn dequant4(b: u32, j: u32) -> vec4<f32> { return ${t.fn}(b, j); }
${quantized[kernel]}`;
}

export function plainKernelSource(kernel: PlainKernel): string {
  return plain[kernel];
}

import quantSrc from '../../shaders/quant.wgsl?raw';
import matmulSrc from '../../shaders/matmul.wgsl?raw';
import getRowsSrc from '../../shaders/get_rows.wgsl?raw';
import rmsnormSrc from '../../shaders/rmsnorm.wgsl?raw';
import ropeSrc from '../../shaders/rope.wgsl?raw';
import attentionSrc from '../../shaders/attention.wgsl?raw';
import elementwiseSrc from '../../shaders/elementwise.wgsl?raw';
import samplingSrc from '../../shaders/sampling.wgsl?raw';
import kvCacheSrc from '../../shaders/kv_cache.wgsl?raw';
import { LayerstreamError } from '../errors.ts';

/**
 * ggml types the kernels can read, with the dequant4 function in shaders/quant.wgsl and the block
 * geometry it works in (F32/F16/BF16 use 4-element "blocks"; ggml block sizes otherwise).
 */
export const GPU_TYPES: Readonly<Record<string, { fn: string; blockElems: number; blockBytes: number }>> = {
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
};

export function isGpuType(name: string): boolean {
  return name in GPU_TYPES;
}

const plain = { rmsnorm: rmsnormSrc, rope: ropeSrc, attention: attentionSrc, kv_cache: kvCacheSrc, elementwise: elementwiseSrc, sampling: samplingSrc } as const;
const quantized = { matmul: matmulSrc, get_rows: getRowsSrc } as const;
export type PlainKernel = keyof typeof plain;
export type QuantKernel = keyof typeof quantized;

/** WGSL for a kernel that reads weights of ggml type `type` (quant.wgsl + dequant4 binding + kernel). */
export function quantKernelSource(kernel: QuantKernel, type: string): string {
  const t = GPU_TYPES[type];
  if (!t) throw new LayerstreamError('unsupported_tensor_type', `no GPU kernel for ggml type ${type}`);
  return `${quantSrc}
const BLOCK_ELEMS: u32 = ${t.blockElems}u;
const BLOCK_BYTES: u32 = ${t.blockBytes}u;
fn dequant4(b: u32, j: u32) -> vec4<f32> { return ${t.fn}(b, j); }
${quantized[kernel]}`;
}

export function plainKernelSource(kernel: PlainKernel): string {
  return plain[kernel];
}

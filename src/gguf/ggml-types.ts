/**
 * ggml tensor types: id, block size (elements per block) and bytes per block.
 * Source: ggml.h `enum ggml_type` and ggml.c `type_traits` (blck_size, type_size).
 */
export interface GGMLTypeInfo {
  readonly name: string;
  readonly id: number;
  /** elements per block */
  readonly blockSize: number;
  /** bytes per block */
  readonly typeSize: number;
}

const T = (name: string, id: number, blockSize: number, typeSize: number): GGMLTypeInfo => ({ name, id, blockSize, typeSize });

/** All types a GGUF may name, indexed by id (ggml.h). Types we cannot compute are still listed so errors can name them. */
export const GGML_TYPES: readonly GGMLTypeInfo[] = [
  T('F32', 0, 1, 4),
  T('F16', 1, 1, 2),
  T('Q4_0', 2, 32, 18),
  T('Q4_1', 3, 32, 20),
  T('Q5_0', 6, 32, 22),
  T('Q5_1', 7, 32, 24),
  T('Q8_0', 8, 32, 34),
  T('Q8_1', 9, 32, 36),
  T('Q2_K', 10, 256, 84),
  T('Q3_K', 11, 256, 110),
  T('Q4_K', 12, 256, 144),
  T('Q5_K', 13, 256, 176),
  T('Q6_K', 14, 256, 210),
  T('Q8_K', 15, 256, 292),
  T('IQ2_XXS', 16, 256, 66),
  T('IQ2_XS', 17, 256, 74),
  T('IQ3_XXS', 18, 256, 98),
  T('IQ1_S', 19, 256, 50),
  T('IQ4_NL', 20, 32, 18),
  T('IQ3_S', 21, 256, 110),
  T('IQ2_S', 22, 256, 82),
  T('IQ4_XS', 23, 256, 136),
  T('I8', 24, 1, 1),
  T('I16', 25, 1, 2),
  T('I32', 26, 1, 4),
  T('I64', 27, 1, 8),
  T('F64', 28, 1, 8),
  T('IQ1_M', 29, 256, 56),
  T('BF16', 30, 1, 2),
  T('TQ1_0', 34, 256, 54),
  T('TQ2_0', 35, 256, 66),
  T('MXFP4', 39, 32, 17),
  T('NVFP4', 40, 64, 36),
  T('Q1_0', 41, 128, 18),
  T('Q2_0', 42, 64, 18),
];

/**
 * Type ids ggml once had and has removed (ggml.h keeps them as comments): a file that uses one was
 * written by an old converter or for a repacked CPU layout and must be re-quantized.
 */
export const GGML_REMOVED_TYPES: ReadonlyMap<number, string> = new Map([
  [4, 'Q4_2'],
  [5, 'Q4_3'],
  [31, 'Q4_0_4_4'],
  [32, 'Q4_0_4_8'],
  [33, 'Q4_0_8_8'],
  [36, 'IQ4_NL_4_4'],
  [37, 'IQ4_NL_4_8'],
  [38, 'IQ4_NL_8_8'],
]);

const byId = new Map(GGML_TYPES.map((t) => [t.id, t]));
const byName = new Map(GGML_TYPES.map((t) => [t.name, t]));

export function ggmlTypeById(id: number): GGMLTypeInfo | undefined {
  return byId.get(id);
}
export function ggmlTypeByName(name: string): GGMLTypeInfo | undefined {
  return byName.get(name);
}

/** Bytes of one row of `cols` elements (cols must be a multiple of the block size). */
export function rowBytes(type: GGMLTypeInfo, cols: number): number {
  return (cols / type.blockSize) * type.typeSize;
}

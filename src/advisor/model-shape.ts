import { checkModel } from '../engine/check-model.ts';
import type { MemoryPlanInput } from '../engine/memory-plan.ts';
import type { TensorUse } from '../engine/residency.ts';
import type { GGUFFile } from '../gguf/gguf.ts';
import type { BaseHParams } from '../models/architecture.ts';

/**
 * What the memory-fit advisor needs of a model, read from its GGUF header alone (no tensor data):
 * the weights the forward pass reads (as the residency planner sees them), the hyperparameters that
 * size the K/V cache, state and scratch, and a few names for the UI. Plain data, so it crosses a
 * worker boundary (Comlink) and can be built in Node from a generated header.
 */
export interface ModelShape {
  /** general.name (or the architecture) */
  name: string;
  architecture: string;
  /** bytes of the whole file (all parts of a split GGUF) */
  fileBytes: number;
  /** llama.cpp file type of general.file_type ('Q4_K_M', 'MXFP4_MOE', …), or null when absent */
  fileType: string | null;
  nLayers: number;
  nVocab: number;
  /** n_ctx_train, tokens */
  contextLength: number;
  /** parameters: elements of every tensor */
  nParams: number;
  /** bytes of the weights the forward pass reads (the embedding lookup reads rows from storage) */
  weightBytes: number;
  /** every weight in forward order (residency.ts TensorUse), and its ggml type name */
  uses: TensorUse[];
  useTypes: string[];
  /** mixture of experts: experts per layer and per token (0 when dense), layers with a router */
  nExpert: number;
  nExpertUsed: number;
  moeLayers: number;
  /** K/V row width (n_head_kv · head_dim) */
  kvWidth: number;
  /** what memoryPlan needs besides the options (engine/memory-plan.ts) */
  memory: Pick<MemoryPlanInput, 'h' | 'activations' | 'embdRowBytes'>;
}

/**
 * llama.cpp's file types (include/llama.h `enum llama_ftype`, names as llama-quantize and the
 * files' names write them): general.file_type → label.
 */
export const LLAMA_FTYPES: Readonly<Record<number, string>> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S', 12: 'Q3_K_M',
  13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 19: 'IQ2_XXS', 20: 'IQ2_XS',
  21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL', 26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S',
  29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16', 36: 'TQ1_0', 37: 'TQ2_0', 38: 'MXFP4_MOE', 39: 'NVFP4',
};

/**
 * The shape of a parsed GGUF header (`gguf` from readGGUF / readSplitGGUF: the header only is read).
 * Runs the engine's own checks (check-model.ts: architecture, tokenizer, every tensor's presence,
 * shape and type), so a model the engine cannot run is refused here, before any download.
 * Throws LayerstreamError: malformed, unsupported_architecture, unsupported_tensor_type, missing_tensor.
 */
export function modelShape(gguf: GGUFFile, isGpuType: (type: string) => boolean, fileBytes: number): ModelShape {
  const { md, arch, h, uses, embd } = checkModel(gguf, isGpuType);
  const hx = h as BaseHParams & { nHead?: number; nExpertUsed?: number; moeLayers?: boolean[]; nLayerDenseLead?: number };
  const nParams = gguf.tensors.reduce((s, t) => s + t.ne.reduce((p, d) => p * d, 1), 0);
  const useTypes = uses.map((u) => gguf.tensorByName.get(u.name)!.type.name);
  const ftype = md.number('general.file_type', NaN);
  const moeLayers = h.nExpert > 0 ? new Set(uses.filter((u) => u.rowsPerExpert).map((u) => u.unit)).size : 0;
  const name = md.string('general.name', '');
  return {
    name: name && name !== arch.name ? name : arch.name,
    architecture: arch.name,
    fileBytes,
    fileType: Number.isFinite(ftype) ? (LLAMA_FTYPES[ftype] ?? `file type ${ftype}`) : null,
    nLayers: h.nLayers,
    nVocab: h.nVocab,
    contextLength: h.contextLength,
    nParams,
    weightBytes: uses.reduce((s, u) => s + u.rows * u.rowBytes, 0),
    uses,
    useTypes,
    nExpert: h.nExpert,
    nExpertUsed: hx.nExpertUsed ?? 0,
    moeLayers,
    kvWidth: h.kvWidth,
    memory: {
      h: {
        nLayers: h.nLayers, nVocab: h.nVocab, contextLength: h.contextLength, kvWidth: h.kvWidth, kvLatent: h.kvLatent,
        kvLayers: h.kvLayers, recurrentState: h.recurrentState, nExpert: h.nExpert, nHead: hx.nHead,
      },
      activations: arch.activations(h),
      embdRowBytes: embd.nBytes / embd.ne[1],
    },
  };
}

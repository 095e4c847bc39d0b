import { LayerstreamError } from '../errors.ts';
import { Metadata, type GGUFFile, type GGUFTensorInfo } from '../gguf/gguf.ts';
import type { Architecture, BaseHParams } from '../models/architecture.ts';
import { architectureFor } from '../models/registry.ts';
import { createTokenizer, type GGUFTokenizer } from '../tokenizer/index.ts';
import type { TensorUse } from './residency.ts';

/** What EngineCore.load knows about a model before it touches the GPU. */
export interface CheckedModel {
  md: Metadata;
  arch: Architecture<BaseHParams>;
  tokenizer: GGUFTokenizer;
  h: BaseHParams;
  /** every weight the architecture reads, in forward order */
  uses: TensorUse[];
  embd: GGUFTensorInfo;
}

/**
 * Everything EngineCore.load checks before it allocates anything: the architecture, the tokenizer
 * (special ids inside the vocabulary), the hyperparameters (counts against the tensors present,
 * heads dividing widths, context ≥ 1: the architecture modules over src/models/hparams.ts), that
 * the vocabulary is the embedding's rows, and every weight (checkWeights). DOM- and GPU-free, so the
 * tests run it in Node over hostile headers; `isGpuType` says which ggml types the kernels read
 * (src/gpu/shaders.ts). Work is proportional to the header (readGGUF bounded its counts).
 * Throws LayerstreamError: malformed, unsupported_architecture, unsupported_tensor_type, missing_tensor.
 */
export function checkModel(gguf: GGUFFile, isGpuType: (type: string) => boolean): CheckedModel {
  const md = new Metadata(gguf.metadata);
  const arch = architectureFor(md.string('general.architecture'));
  const tokenizer = createTokenizer(md);
  const h = arch.hparams(md, gguf);
  const embd = gguf.tensorByName.get('token_embd.weight');
  if (!embd) throw new LayerstreamError('missing_tensor', `missing tensor token_embd.weight (architecture ${arch.name})`);
  if (embd.ne.length < 2 || embd.ne.slice(2).some((d) => d !== 1)) throw new LayerstreamError('malformed', `tensor token_embd.weight has shape [${embd.ne.join(', ')}], not [n_embd, n_vocab]`);
  // llama.cpp creates token_embd as {n_embd, n_vocab}: every id the tokenizer makes has a row
  if (tokenizer.nVocab !== embd.ne[1]) {
    throw new LayerstreamError('malformed', `tokenizer.ggml.tokens has ${tokenizer.nVocab} tokens but token_embd.weight has ${embd.ne[1]} rows (shape [${embd.ne.join(', ')}])`);
  }
  const uses = checkWeights(arch, h, gguf, isGpuType);
  if (!isGpuType(embd.type.name)) throw new LayerstreamError('unsupported_tensor_type', `unsupported tensor type ${embd.type.name} in token_embd.weight`);
  return { md, arch, tokenizer, h, uses, embd };
}

/**
 * Checks every weight the architecture needs: present, shaped as the hyperparameters say, of a type
 * the kernels read. Returns them as TensorUses in forward order.
 */
export function checkWeights(arch: Architecture<BaseHParams>, h: BaseHParams, gguf: GGUFFile, isGpuType: (type: string) => boolean): TensorUse[] {
  const uses: TensorUse[] = [];
  for (const spec of arch.weights(h, gguf)) {
    const t = gguf.tensorByName.get(spec.name);
    if (!t) {
      if (spec.optional) continue;
      throw new LayerstreamError('missing_tensor', `missing tensor ${spec.name} (architecture ${arch.name})`);
    }
    const ne = [...t.ne];
    while (ne.length > spec.ne.length && ne[ne.length - 1] === 1) ne.pop();
    if (ne.length !== spec.ne.length || ne.some((v, i) => v !== spec.ne[i])) {
      throw new LayerstreamError('malformed', `tensor ${spec.name} has shape [${t.ne.join(', ')}] but the hyperparameters say [${spec.ne.join(', ')}]`);
    }
    if (!isGpuType(t.type.name)) throw new LayerstreamError('unsupported_tensor_type', `unsupported tensor type ${t.type.name} in ${spec.name}`);
    if (spec.ne.length === 1 && t.type.name !== 'F32') throw new LayerstreamError('unsupported_tensor_type', `vector ${spec.name} must be F32, is ${t.type.name}`);
    // matrices are read 4 columns at a time; F32 vectors are bound whole (qwen35's ssm_a and ssm_dt.bias have one value per head)
    if (t.ne[0] % 4 !== 0 && spec.ne.length !== 1) throw new LayerstreamError('malformed', `tensor ${spec.name} row width ${t.ne[0]} is not a multiple of 4`);
    const rows = t.ne.slice(1).reduce((s, v) => s * v, 1);
    // 3-D expert tensors (ffn_*_exps) stream per expert; other 3-D tensors (MLA's per-head
    // attn_k_b / attn_v_b, which every token reads whole) are plain row ranges
    const experts = spec.ne.length === 3 && /_exps\.weight$/.test(spec.name);
    uses.push({ name: spec.name, unit: spec.unit, rows, rowBytes: t.nBytes / rows, fileOffset: t.offset, rowsPerExpert: experts ? t.ne[1] : undefined });
  }
  return uses;
}

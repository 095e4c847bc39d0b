/**
 * layerstream public API: run GGUF language models in the browser on WebGPU, streaming layers
 * through a fixed GPU buffer pool when the model is larger than the budget.
 */
import type { Tokenizer } from './api.ts';
import { Metadata, readGGUF } from './gguf/gguf.ts';
import { openByteSource } from './storage/byte-source.ts';
import { createTokenizer } from './tokenizer/index.ts';

export type {
  Engine, EngineOptions, EngineStats, GenerateRequest, GeneratedToken, ModelInfo, LoadProgress, Tokenizer,
  CachedModel, DownloadOptions, DownloadProgress, StorageEstimate,
} from './api.ts';
export { LayerstreamError, type LayerstreamErrorCode } from './errors.ts';
export type { ChatCompletionRequest, ChatCompletion, ChatCompletionChunk, CompletionRequest, Completion, Usage, FinishReason } from './chat/openai.ts';
export type { ChatMessage } from './chat/template.ts';
export { renderChatTemplate, DEFAULT_CHAT_TEMPLATE } from './chat/template.ts';
export { createEngine, type EngineTuning } from './worker/client.ts';
export { listModels, downloadModel, importModel, deleteModel, storageEstimate } from './worker/storage-client.ts';
export { CACHE_SCHEME } from './storage/scheme.ts';
export {
  HF_ENDPOINT, parseHfReference, listGgufFiles, probeHfFile, resolveUrl, groupGgufFiles, ggufQuantLabel, selectHfModel,
  type HfReference, type HfGgufModel, type HfTreeEntry, type HfFileProbe, type HfFetchOptions,
} from './storage/huggingface.ts';
export { AdvisorClient } from './advisor/client.ts';
export {
  advise, planVariant, predictDecode, ramTierAvailable,
  type FitPlan, type LoadVariant, type Prediction, type Recommendation, type RecommendationKind, type Calibration, type DeviceFigures, type AdviceOptions, type SiblingFile,
} from './advisor/advise.ts';
export { modelShape, type ModelShape } from './advisor/model-shape.ts';

/**
 * Loads the tokenizer of a GGUF (reads only the header; works on vocab-only files) on the calling
 * thread. Throws LayerstreamError for bad files or tokenizer metadata.
 */
export async function loadTokenizer(source: string | URL | Blob): Promise<Tokenizer> {
  const src = await openByteSource(source);
  const gguf = await readGGUF(src);
  return createTokenizer(new Metadata(gguf.metadata));
}

/**
 * layerstream public API.
 */
export type { Engine, EngineOptions, EngineStats, GenerateRequest, GeneratedToken, ModelInfo, LoadProgress, Tokenizer } from './api.ts';
export { LayerstreamError } from './errors.ts';

/**
 * A curated list of real instruction-tuned GGUF files on Hugging Face that the engine can run
 * ("pick a real model" in the app; the memory-fit advisor reads their sizes).
 *
 * Every entry was checked against public material before it went in: the file name and its size
 * on a Hugging Face page (or a mirror of one) or in a public repository that pins the file by its
 * exact byte count; `source` names where. An entry whose file name could not be confirmed was left
 * out rather than guessed. `bytesExact: false` means only the rounded figure of the model card or
 * the Hugging Face file list is known (2.50 GB → 2_500_000_000); the advisor should treat such a size
 * as ±0.5 % or so. `architecture` is what the file declares in `general.architecture`, or where no
 * page showing the header was found, what llama.cpp's convert_hf_to_gguf.py writes for that model's
 * Hugging Face architecture (noted per entry). `params` is the count Hugging Face reads from the
 * GGUF where the source gives one (PocketPal's lists), else the model card's figure (Qwen3 0.6B and
 * 1.7B: the card's; the GGUF-derived count seems to add the tied embedding twice). Extending the list = one more
 * object below.
 */

export interface CatalogEntry {
  /** stable id, e.g. 'qwen3-1.7b-q4_k_m' */
  id: string;
  /** the model as people name it, e.g. 'Qwen3 1.7B' */
  model: string;
  /** GGUF general.architecture the file declares: one of the engine's supported ones */
  architecture: string;
  /** Hugging Face repo 'owner/name' and the file path inside it (first part for split GGUF) */
  repo: string;
  file: string;
  /** split GGUF: number of parts (omit for one file) */
  parts?: number;
  /** llama.cpp file-type label as in the file name: 'Q4_K_M', 'Q8_0', 'MXFP4', 'IQ4_XS', 'BF16' ... */
  quant: string;
  /** file size in bytes (all parts); bytesExact false when only the rounded size on the model card / HF page is known (then bytes = that figure, e.g. 2.50 GB → 2_500_000_000) */
  bytes: number;
  bytesExact: boolean;
  /** parameters, e.g. 1.7e9; for MoE total and active */
  params: number;
  activeParams?: number;
  /** SPDX-ish licence id as on the card: 'apache-2.0', 'llama3.2', 'gemma', 'mit', ... */
  license: string;
  /** one line for the UI */
  description: string;
  /** where the file name and size were confirmed (a URL the search tool returned) */
  source: string;
}

// Sources that pin many files by exact byte count (each from the Hugging Face API / LFS metadata).
/** PocketPal AI's bundled per-device model lists (hf_repo, hf_filename, size_bytes, params). */
const POCKETPAL_IOS = 'https://github.com/a-ghorbani/pocketpal-ai/blob/a3a4c34f500dc250c429f0007e1ef590f7e437d2/src/store/bundledDeviceRules/rules.ios.json';
const POCKETPAL_ANDROID = 'https://github.com/a-ghorbani/pocketpal-ai/blob/a3a4c34f500dc250c429f0007e1ef590f7e437d2/src/store/bundledDeviceRules/rules.android.json';
/** PocketPal AI's earlier preset list (hfModelFile.size and lfs.size per file). */
const POCKETPAL_PRESETS = 'https://github.com/a-ghorbani/pocketpal-ai/blob/000b339a52131eb4554edebc6ee25f5f78df6cac/src/store/defaultModels.ts';
/** webOS Phoenix's assistant models: the Qwen team's own GGUFs with size and SHA-256 from HF LFS metadata. */
const PHOENIX = 'https://github.com/thebestbradley/webos-phoenix/blob/HEAD/apps/assistant/service/lib/models.js';
const PHOENIX_QWEN25 = 'https://github.com/thebestbradley/webos-phoenix/blob/9c0d49bcc50d38902ddadf5d7d205d0a746be23c/apps/assistant/service/lib/models.js';
/** rllama's list of popular models (repo/file and exact size). */
const RLLAMA = 'https://github.com/docusealco/rllama/blob/a85da878881324e3d2d583c11edc851294a6324a/lib/rllama/cli.rb';

export const CATALOG: readonly CatalogEntry[] = [
  // ---------------------------------------------------------------- Qwen3 (qwen3, qwen3moe)
  {
    id: 'qwen3-0.6b-q4_k_m', model: 'Qwen3 0.6B', architecture: 'qwen3',
    repo: 'bartowski/Qwen_Qwen3-0.6B-GGUF', file: 'Qwen_Qwen3-0.6B-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 484_220_320, bytesExact: true, params: 0.6e9, license: 'apache-2.0',
    description: 'Tiny thinking/non-thinking chat model; fits almost anywhere.', source: POCKETPAL_IOS,
  },
  {
    id: 'qwen3-0.6b-q8_0', model: 'Qwen3 0.6B', architecture: 'qwen3',
    repo: 'Qwen/Qwen3-0.6B-GGUF', file: 'Qwen3-0.6B-Q8_0.gguf', quant: 'Q8_0',
    bytes: 639_446_688, bytesExact: true, params: 0.6e9, license: 'apache-2.0',
    description: 'The Qwen team\'s own 8-bit build of the 0.6B model.', source: PHOENIX,
  },
  {
    id: 'qwen3-1.7b-q4_k_m', model: 'Qwen3 1.7B', architecture: 'qwen3',
    repo: 'bartowski/Qwen_Qwen3-1.7B-GGUF', file: 'Qwen_Qwen3-1.7B-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 1_282_439_584, bytesExact: true, params: 1.7e9, license: 'apache-2.0',
    description: 'Small Qwen3 with reasoning mode; a good default for phones and laptops.', source: POCKETPAL_IOS,
  },
  {
    id: 'qwen3-1.7b-q8_0', model: 'Qwen3 1.7B', architecture: 'qwen3',
    repo: 'Qwen/Qwen3-1.7B-GGUF', file: 'Qwen3-1.7B-Q8_0.gguf', quant: 'Q8_0',
    bytes: 1_834_426_016, bytesExact: true, params: 1.7e9, license: 'apache-2.0',
    description: 'The Qwen team\'s own 8-bit build of the 1.7B model.', source: PHOENIX,
  },
  {
    id: 'qwen3-4b-q4_k_m', model: 'Qwen3 4B', architecture: 'qwen3',
    repo: 'Qwen/Qwen3-4B-GGUF', file: 'Qwen3-4B-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 2_497_280_256, bytesExact: true, params: 4.02e9, license: 'apache-2.0',
    description: 'Strong 4B reasoning and tool-calling model (official GGUF).', source: PHOENIX,
  },
  {
    id: 'qwen3-8b-q4_k_m', model: 'Qwen3 8B', architecture: 'qwen3',
    repo: 'Qwen/Qwen3-8B-GGUF', file: 'Qwen3-8B-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 5_027_783_488, bytesExact: true, params: 8.19e9, license: 'apache-2.0',
    description: 'All-round 8B Qwen3 for 12–16 GB machines (official GGUF).', source: PHOENIX,
  },
  {
    // the same 18,556,685,824 bytes and SHA-256 0d003f66… are pinned independently by other public code
    id: 'qwen3-30b-a3b-q4_k_m', model: 'Qwen3 30B-A3B', architecture: 'qwen3moe',
    repo: 'Qwen/Qwen3-30B-A3B-GGUF', file: 'Qwen3-30B-A3B-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 18_556_685_824, bytesExact: true, params: 30.5e9, activeParams: 3.3e9, license: 'apache-2.0',
    description: 'Mixture of experts, 3.3B active per token: big-model quality, small-model speed.', source: PHOENIX,
  },

  // ---------------------------------------------------------------- Llama 3.2 (llama)
  {
    id: 'llama-3.2-1b-instruct-q4_k_m', model: 'Llama 3.2 1B Instruct', architecture: 'llama',
    repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF', file: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 807_694_464, bytesExact: true, params: 1_235_814_432, license: 'llama3.2',
    description: 'Meta\'s smallest instruct model; quick answers and summaries.', source: POCKETPAL_PRESETS,
  },
  {
    id: 'llama-3.2-1b-instruct-q8_0', model: 'Llama 3.2 1B Instruct', architecture: 'llama',
    repo: 'hugging-quants/Llama-3.2-1B-Instruct-Q8_0-GGUF', file: 'llama-3.2-1b-instruct-q8_0.gguf', quant: 'Q8_0',
    bytes: 1_321_079_200, bytesExact: true, params: 1_235_814_432, license: 'llama3.2',
    description: '8-bit build of Llama 3.2 1B from Hugging Face\'s quantization team.', source: POCKETPAL_PRESETS,
  },
  {
    id: 'llama-3.2-3b-instruct-q4_k_m', model: 'Llama 3.2 3B Instruct', architecture: 'llama',
    repo: 'bartowski/Llama-3.2-3B-Instruct-GGUF', file: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 2_019_377_696, bytesExact: true, params: 3_212_749_888, license: 'llama3.2',
    description: 'Meta\'s 3B instruct model with 128K context.', source: RLLAMA,
  },
  {
    id: 'llama-3.2-3b-instruct-q6_k', model: 'Llama 3.2 3B Instruct', architecture: 'llama',
    repo: 'bartowski/Llama-3.2-3B-Instruct-GGUF', file: 'Llama-3.2-3B-Instruct-Q6_K.gguf', quant: 'Q6_K',
    bytes: 2_643_853_856, bytesExact: true, params: 3_212_749_888, license: 'llama3.2',
    description: 'Near-lossless 6-bit Llama 3.2 3B.', source: POCKETPAL_PRESETS,
  },

  // ---------------------------------------------------------------- Gemma 3 (gemma3), Gemma 2 (gemma2)
  {
    id: 'gemma-3-1b-it-q4_k_m', model: 'Gemma 3 1B', architecture: 'gemma3',
    repo: 'ggml-org/gemma-3-1b-it-GGUF', file: 'gemma-3-1b-it-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 806_058_240, bytesExact: true, params: 999_885_952, license: 'gemma',
    description: 'Google\'s 1B instruction-tuned Gemma 3, text only.', source: POCKETPAL_IOS,
  },
  {
    id: 'gemma-3-4b-it-q4_k_m', model: 'Gemma 3 4B', architecture: 'gemma3',
    repo: 'ggml-org/gemma-3-4b-it-GGUF', file: 'gemma-3-4b-it-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 2_489_757_856, bytesExact: true, params: 3_880_099_328, license: 'gemma',
    description: 'Gemma 3 4B: multilingual, 128K context (text part of the model).', source: POCKETPAL_IOS,
  },
  {
    id: 'gemma-3-4b-it-q8_0', model: 'Gemma 3 4B', architecture: 'gemma3',
    repo: 'ggml-org/gemma-3-4b-it-GGUF', file: 'gemma-3-4b-it-Q8_0.gguf', quant: 'Q8_0',
    bytes: 4_130_000_000, bytesExact: false, params: 3_880_099_328, license: 'gemma',
    description: '8-bit Gemma 3 4B from ggml-org.', source: 'https://huggingface.co/ggml-org/gemma-3-4b-it-GGUF/tree/main',
  },
  {
    id: 'gemma-3-12b-it-q4_0', model: 'Gemma 3 12B', architecture: 'gemma3',
    repo: 'bartowski/google_gemma-3-12b-it-GGUF', file: 'google_gemma-3-12b-it-Q4_0.gguf', quant: 'Q4_0',
    bytes: 6_910_000_000, bytesExact: false, params: 11.8e9, license: 'gemma',
    description: 'Gemma 3 12B for 16 GB machines (imatrix Q4_0).',
    // a model card comparing quants, linking this file with its size
    source: 'https://hf-mirror.492719920.workers.dev/stduhpf/google-gemma-3-12b-it-qat-q4_0-gguf-small/resolve/main/README.md?download=true',
  },
  {
    id: 'gemma-2-2b-it-q6_k', model: 'Gemma 2 2B', architecture: 'gemma2',
    repo: 'bartowski/gemma-2-2b-it-GGUF', file: 'gemma-2-2b-it-Q6_K.gguf', quant: 'Q6_K',
    bytes: 2_151_393_120, bytesExact: true, params: 2_614_341_888, license: 'gemma',
    description: 'Gemma 2 2B with logit soft-capping and sliding-window attention.', source: POCKETPAL_PRESETS,
  },

  // ---------------------------------------------------------------- Phi (phi3)
  {
    id: 'phi-4-mini-instruct-q4_0', model: 'Phi-4-mini Instruct', architecture: 'phi3',
    repo: 'bartowski/microsoft_Phi-4-mini-instruct-GGUF', file: 'microsoft_Phi-4-mini-instruct-Q4_0.gguf', quant: 'Q4_0',
    bytes: 2_331_442_560, bytesExact: true, params: 3_836_021_856, license: 'mit',
    description: 'Microsoft\'s 3.8B reasoning-dense model with 128K context.', source: POCKETPAL_ANDROID,
  },
  {
    id: 'phi-4-q4_k_m', model: 'Phi-4', architecture: 'phi3',
    repo: 'bartowski/phi-4-GGUF', file: 'phi-4-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 9_050_000_000, bytesExact: false, params: 14.7e9, license: 'mit',
    description: 'Microsoft\'s 14B Phi-4: strong at maths and reasoning.', source: 'https://huggingface.yyhnxgf.workers.dev/bartowski/phi-4-GGUF',
  },

  // ---------------------------------------------------------------- SmolLM3 (smollm3)
  {
    id: 'smollm3-3b-q4_k_m', model: 'SmolLM3 3B', architecture: 'smollm3',
    repo: 'bartowski/HuggingFaceTB_SmolLM3-3B-GGUF', file: 'HuggingFaceTB_SmolLM3-3B-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 1_915_305_792, bytesExact: true, params: 3_075_098_624, license: 'apache-2.0',
    description: 'Hugging Face\'s fully open 3B with a reasoning mode.', source: POCKETPAL_IOS,
  },

  // ---------------------------------------------------------------- Mistral (llama, mistral3)
  {
    // MistralForCausalLM: llama.cpp's converter writes architecture "llama"
    id: 'mistral-7b-instruct-v0.3-q4_k_m', model: 'Mistral 7B Instruct v0.3', architecture: 'llama',
    repo: 'lmstudio-community/Mistral-7B-Instruct-v0.3-GGUF', file: 'Mistral-7B-Instruct-v0.3-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 4_370_000_000, bytesExact: false, params: 7.25e9, license: 'apache-2.0',
    description: 'Mistral\'s classic 7B instruct model with function calling.',
    source: 'https://huggingface.co/lmstudio-community/Mistral-7B-Instruct-v0.3-GGUF/tree/29a785419661afc70b5cd91b5023a835b0092281',
  },
  {
    id: 'mistral-7b-instruct-v0.3-q8_0', model: 'Mistral 7B Instruct v0.3', architecture: 'llama',
    repo: 'lmstudio-community/Mistral-7B-Instruct-v0.3-GGUF', file: 'Mistral-7B-Instruct-v0.3-Q8_0.gguf', quant: 'Q8_0',
    bytes: 7_700_000_000, bytesExact: false, params: 7.25e9, license: 'apache-2.0',
    description: '8-bit Mistral 7B Instruct v0.3.',
    source: 'https://huggingface.co/lmstudio-community/Mistral-7B-Instruct-v0.3-GGUF/tree/29a785419661afc70b5cd91b5023a835b0092281',
  },
  {
    // Ministral3ForCausalLM / Mistral3ForConditionalGeneration (model_type ministral3): converter writes "mistral3"
    id: 'ministral-3-3b-instruct-2512-q4_k_m', model: 'Ministral 3 3B Instruct', architecture: 'mistral3',
    repo: 'bartowski/mistralai_Ministral-3-3B-Instruct-2512-GGUF', file: 'mistralai_Ministral-3-3B-Instruct-2512-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 2_146_498_528, bytesExact: true, params: 3_429_006_336, license: 'apache-2.0',
    description: 'Mistral\'s December 2025 small edge model (text part).', source: POCKETPAL_IOS,
  },
  {
    // Mistral Small 3 (2501) is MistralForCausalLM: converter writes "llama" (HF shows "Architecture llama" for its GGUF derivatives)
    id: 'mistral-small-24b-instruct-2501-q4_k_m', model: 'Mistral Small 3 24B Instruct', architecture: 'llama',
    repo: 'bartowski/Mistral-Small-24B-Instruct-2501-GGUF', file: 'Mistral-Small-24B-Instruct-2501-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 14_300_000_000, bytesExact: false, params: 23.6e9, license: 'apache-2.0',
    description: 'Dense 24B Mistral Small 3 for 24 GB+ machines.',
    source: 'https://huggingface.co/bartowski/Mistral-Small-24B-Instruct-2501-GGUF/tree/b1ac6b321fde62389df753f3be9649d08f05544b',
  },

  // ---------------------------------------------------------------- gpt-oss (gpt-oss)
  {
    id: 'gpt-oss-20b-mxfp4', model: 'gpt-oss 20B', architecture: 'gpt-oss',
    repo: 'lmstudio-community/gpt-oss-20b-GGUF', file: 'gpt-oss-20b-MXFP4.gguf', quant: 'MXFP4',
    bytes: 12_109_565_632, bytesExact: true, params: 20.9e9, activeParams: 3.6e9, license: 'apache-2.0',
    description: 'OpenAI\'s open-weight MoE (3.6B active) in its native MXFP4 experts.', source: RLLAMA,
  },

  // ---------------------------------------------------------------- Qwen2.5 Instruct (qwen2)
  {
    id: 'qwen2.5-0.5b-instruct-q4_k_m', model: 'Qwen2.5 0.5B Instruct', architecture: 'qwen2',
    repo: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF', file: 'qwen2.5-0.5b-instruct-q4_k_m.gguf', quant: 'Q4_K_M',
    bytes: 491_400_032, bytesExact: true, params: 0.49e9, license: 'apache-2.0',
    description: 'Very small, fast Qwen2.5 for commands and short answers.', source: PHOENIX_QWEN25,
  },
  {
    id: 'qwen2.5-1.5b-instruct-q8_0', model: 'Qwen2.5 1.5B Instruct', architecture: 'qwen2',
    repo: 'Qwen/Qwen2.5-1.5B-Instruct-GGUF', file: 'qwen2.5-1.5b-instruct-q8_0.gguf', quant: 'Q8_0',
    bytes: 1_894_532_128, bytesExact: true, params: 1_777_088_000, license: 'apache-2.0',
    description: 'Qwen2.5 1.5B at 8 bits: multilingual small assistant.', source: POCKETPAL_PRESETS,
  },
  {
    id: 'qwen2.5-3b-instruct-q5_k_m', model: 'Qwen2.5 3B Instruct', architecture: 'qwen2',
    repo: 'Qwen/Qwen2.5-3B-Instruct-GGUF', file: 'qwen2.5-3b-instruct-q5_k_m.gguf', quant: 'Q5_K_M',
    bytes: 2_438_740_384, bytesExact: true, params: 3_397_103_616, license: 'qwen-research',
    description: 'Qwen2.5 3B (Qwen research licence: non-commercial).', source: POCKETPAL_PRESETS,
  },
  {
    // two parts: 3,993,201,344 + 689,872,288 bytes (SHA-256 dfce12e3… / 539cf93f…), as pinned by several public repositories
    id: 'qwen2.5-7b-instruct-q4_k_m', model: 'Qwen2.5 7B Instruct', architecture: 'qwen2',
    repo: 'Qwen/Qwen2.5-7B-Instruct-GGUF', file: 'qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf', parts: 2, quant: 'Q4_K_M',
    bytes: 4_683_073_632, bytesExact: true, params: 7.61e9, license: 'apache-2.0',
    description: 'Qwen2.5 7B, the official split GGUF (two parts).',
    source: 'https://huggingface.co/Qwen/Qwen2.5-7B-Instruct-GGUF/blob/main/qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf',
  },

  // ---------------------------------------------------------------- OLMo 2 (olmo2)
  {
    id: 'olmo-2-1124-7b-instruct-q4_k_m', model: 'OLMo 2 7B Instruct', architecture: 'olmo2',
    repo: 'bartowski/OLMo-2-1124-7B-Instruct-GGUF', file: 'OLMo-2-1124-7B-Instruct-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 4_470_000_000, bytesExact: false, params: 7.3e9, license: 'apache-2.0',
    description: 'Ai2\'s fully open 7B (open data, code and checkpoints).',
    source: 'https://huggingface.co/bartowski/OLMo-2-1124-7B-Instruct-GGUF/blob/312bf64a2f48009d67cc7700860a8bb4f37c8d35/OLMo-2-1124-7B-Instruct-Q4_K_M.gguf',
  },
  {
    id: 'olmo-2-1124-7b-instruct-q8_0', model: 'OLMo 2 7B Instruct', architecture: 'olmo2',
    repo: 'bartowski/OLMo-2-1124-7B-Instruct-GGUF', file: 'OLMo-2-1124-7B-Instruct-Q8_0.gguf', quant: 'Q8_0',
    bytes: 7_760_000_000, bytesExact: false, params: 7.3e9, license: 'apache-2.0',
    description: '8-bit OLMo 2 7B Instruct.',
    source: 'https://huggingface.co/bartowski/OLMo-2-1124-7B-Instruct-GGUF/blob/2ee0a83af74f799e0e763ec59c88d723ccba2c33/README.md',
  },

  // ---------------------------------------------------------------- Granite (granite)
  {
    id: 'granite-3.2-8b-instruct-iq4_xs', model: 'Granite 3.2 8B Instruct', architecture: 'granite',
    repo: 'bartowski/ibm-granite_granite-3.2-8b-instruct-GGUF', file: 'ibm-granite_granite-3.2-8b-instruct-IQ4_XS.gguf', quant: 'IQ4_XS',
    bytes: 4_430_000_000, bytesExact: false, params: 8.17e9, license: 'apache-2.0',
    description: 'IBM\'s 8B enterprise instruct model (i-quant IQ4_XS).',
    source: 'https://huggingface.co/bartowski/ibm-granite_granite-3.2-8b-instruct-GGUF/tree/main',
  },

  // ---------------------------------------------------------------- DeepSeek-V2-Lite (deepseek2)
  {
    id: 'deepseek-v2-lite-chat-q4_k_m', model: 'DeepSeek-V2-Lite Chat', architecture: 'deepseek2',
    repo: 'mradermacher/DeepSeek-V2-Lite-Chat-GGUF', file: 'DeepSeek-V2-Lite-Chat.Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 10_400_000_000, bytesExact: false, params: 15.7e9, activeParams: 2.4e9, license: 'deepseek',
    description: 'DeepSeek\'s MoE with multi-head latent attention, 2.4B active.',
    source: 'https://huggingface.co/mradermacher/DeepSeek-V2-Lite-Chat-GGUF/tree/b71ef480ff005cef0bc7c15a49f3c306f396a395',
  },

  // ---------------------------------------------------------------- Qwen3.5 (qwen35, qwen35moe)
  {
    id: 'qwen3.5-2b-q4_k_m', model: 'Qwen3.5 2B', architecture: 'qwen35',
    repo: 'unsloth/Qwen3.5-2B-GGUF', file: 'Qwen3.5-2B-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 1_280_835_840, bytesExact: true, params: 1_881_825_088, license: 'apache-2.0',
    description: 'Qwen3.5 hybrid (Gated DeltaNet + attention) 2B, text part.', source: POCKETPAL_IOS,
  },
  {
    id: 'qwen3.5-4b-q4_k_m', model: 'Qwen3.5 4B', architecture: 'qwen35',
    repo: 'unsloth/Qwen3.5-4B-GGUF', file: 'Qwen3.5-4B-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 2_740_937_888, bytesExact: true, params: 4_205_751_296, license: 'apache-2.0',
    description: 'Qwen3.5 hybrid-attention 4B, text part.', source: POCKETPAL_IOS,
  },
  {
    id: 'qwen3.5-35b-a3b-q4_k_m', model: 'Qwen3.5 35B-A3B', architecture: 'qwen35moe',
    repo: 'unsloth/Qwen3.5-35B-A3B-GGUF', file: 'Qwen3.5-35B-A3B-Q4_K_M.gguf', quant: 'Q4_K_M',
    bytes: 22_016_023_168, bytesExact: true, params: 35e9, activeParams: 3e9, license: 'apache-2.0',
    description: 'Qwen3.5 mixture of experts, 3B active, for 32 GB+ machines.', source: RLLAMA,
  },
];

/** One model and its catalog files, smallest first. */
export interface CatalogModel {
  /** CatalogEntry.model */
  model: string;
  /** the entries naming this model, sorted by bytes ascending (ties keep catalog order) */
  entries: CatalogEntry[];
}

/**
 * The catalog grouped by `model`: groups in the order each model first appears in `catalog`
 * (CATALOG by default), each group's entries sorted by file size (bytes) ascending.
 */
export function catalogModels(catalog: readonly CatalogEntry[] = CATALOG): CatalogModel[] {
  const groups = new Map<string, CatalogEntry[]>();
  for (const e of catalog) {
    const g = groups.get(e.model);
    if (g) g.push(e);
    else groups.set(e.model, [e]);
  }
  // Array.prototype.sort is stable, so equal sizes keep catalog order.
  return [...groups].map(([model, entries]) => ({ model, entries: entries.sort((a, b) => a.bytes - b.bytes) }));
}

/** The entry with this id, or undefined. */
export function findEntry(id: string, catalog: readonly CatalogEntry[] = CATALOG): CatalogEntry | undefined {
  return catalog.find((e) => e.id === id);
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/**
 * The download URL of `file` (for a split GGUF: of `file`, the first part) on a Hugging Face
 * endpoint: `${endpoint}/${repo}/resolve/main/${file}`, each path segment of repo and file
 * percent-encoded ('/' kept as the separator); trailing slashes on endpoint are dropped.
 */
export function resolveUrl(entry: Pick<CatalogEntry, 'repo' | 'file'>, endpoint = 'https://huggingface.co', file = entry.file): string {
  return `${endpoint.replace(/\/+$/, '')}/${encodePath(entry.repo)}/resolve/main/${encodePath(file)}`;
}

const SPLIT = /-(\d{5})-of-(\d{5})\.gguf$/;

/**
 * The file paths of every part, in order: [file] for one file; for a split GGUF (parts = N, file
 * ending -00001-of-0000N.gguf) the N names -00001-of-0000N.gguf … -0000N-of-0000N.gguf. Throws if
 * a split entry's file name does not match its part count.
 */
export function partFiles(entry: Pick<CatalogEntry, 'file' | 'parts'>): string[] {
  if (entry.parts === undefined) return [entry.file];
  const m = SPLIT.exec(entry.file);
  if (!m || Number(m[1]) !== 1 || Number(m[2]) !== entry.parts) {
    throw new Error(`"${entry.file}" is not the first of ${entry.parts} split GGUF parts`);
  }
  const stem = entry.file.slice(0, m.index);
  return Array.from({ length: entry.parts }, (_, i) => `${stem}-${String(i + 1).padStart(5, '0')}-of-${m[2]}.gguf`);
}

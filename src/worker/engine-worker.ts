/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import type { EngineStats, ModelInfo } from '../api.ts';
import { EngineCore } from '../engine/engine.ts';
import { LayerstreamError } from '../errors.ts';
import { requestGPUDevice } from '../gpu/device.ts';
import { constraintFor } from '../grammar/for-tokenizer.ts';
import { markerTokens } from '../grammar/vocab.ts';
import { openModel } from '../storage/open-model.ts';
import { installErrorTransfer, type LoadOptions, type WorkerApi } from './protocol.ts';

// The engine's home: one model per worker. All file reads and GPU work happen here, off the UI thread.
installErrorTransfer();

let core: EngineCore | null = null;
const aborts = new Map<number, AbortController>();
/** constrained generation of the last generate (EngineStats.grammarLastGenerate) */
let lastGrammar: EngineStats['grammarLastGenerate'] = null;

function engine(): EngineCore {
  if (!core) throw new LayerstreamError('disposed', 'no model loaded');
  return core;
}

/**
 * Loads a speculative-decoding draft model (EngineOptions.draftModel) resident on `device`:
 * budget draftGpuBudgetBytes, default 1.25 × its file + 32 MiB, same context length.
 */
async function loadDraft(model: string | Blob, device: GPUDevice, opts: LoadOptions, budget: number | undefined, onProgress: (phase: string, loaded: number, total: number) => void): Promise<EngineCore> {
  const opened = await openModel(model);
  try {
    return await EngineCore.load(opened, device, {
      contextLength: opts.contextLength,
      kvCacheType: opts.kvCacheType,
      maxBatch: opts.maxBatch,
      gpuBudgetBytes: budget ?? Math.ceil(opened.source.size * 1.25) + 32 * 2 ** 20,
      onProgress: (p, l, t) => void onProgress(`draft ${p}`, l, t),
    });
  } catch (e) {
    opened.source.close?.();
    throw e;
  }
}

const api: WorkerApi = {
  async load(model, opts, onProgress): Promise<ModelInfo> {
    onProgress('header', 0, 0);
    const opened = await openModel(model);
    let device: GPUDevice | null = null;
    try {
      device = await requestGPUDevice();
      const { draftModel, draftGpuBudgetBytes, speculative, ...coreOpts } = opts;
      // a draft model first, on the same device, so the target plans around what it holds
      const draft = draftModel ? await loadDraft(draftModel, device, coreOpts, draftGpuBudgetBytes, onProgress) : null;
      try {
        core = await EngineCore.load(opened, device, { ...coreOpts, draftBytes: draft?.gpuBytes, onProgress: (p, l, t) => void onProgress(p, l, t) });
        if (draft) core.attachDraft(draft);
        core.setDefaultSpeculative(speculative);
      } catch (e) {
        core?.dispose(); // (disposes an attached draft too)
        draft?.dispose();
        core = null;
        throw e;
      }
    } catch (e) {
      device?.destroy();
      opened.source.close?.();
      throw e;
    }
    return core.info;
  },
  async tokenize(text, addSpecial, parseSpecial = false) {
    return engine().tokenizer.tokenize(text, { addSpecial, parseSpecial });
  },
  async chatInfo() {
    const t = engine().tokenizer;
    const text = (id: number | undefined) => (id === undefined ? '' : t.tokenText(id));
    return { template: engine().chatTemplate, bosToken: text(t.bosId), eosToken: text(t.eosId), addBos: t.addBos, markers: [...markerTokens(t)] };
  },
  async detokenize(ids) {
    return engine().tokenizer.detokenize(ids);
  },
  async generate(id, req, onTokens) {
    const e = engine();
    const ac = new AbortController();
    aborts.set(id, ac);
    const tokens = typeof req.prompt === 'string' ? e.tokenizer.tokenize(req.prompt, { addSpecial: true }) : req.prompt;
    let sent = 0;
    let constraint;
    lastGrammar = null;
    try {
      const t0 = performance.now();
      constraint = await constraintFor(e.tokenizer, req.grammar); // compiled here: the matcher stays in the worker
      const compileMs = performance.now() - t0;
      for await (const t of e.generate({ ...req, tokens, signal: ac.signal, constraint })) {
        // one message per token keeps the stream live; not awaited, so it never slows decoding
        void onTokens([t]);
        sent++;
      }
      const grammarMs = constraint && { maskPerToken: constraint.masks ? constraint.maskMs / constraint.masks : 0, masks: constraint.masks };
      if (constraint) lastGrammar = { compileMs, masks: constraint.masks, maskMsPerToken: grammarMs!.maskPerToken };
      return { sent, finish: e.lastFinish, promptTokens: tokens.length, cachedTokens: e.lastCachedTokens, ...(grammarMs ? { grammarMs } : {}) };
    } finally {
      constraint?.dispose();
      aborts.delete(id);
    }
  },
  abort(id) {
    aborts.get(id)?.abort();
  },
  async logits(tokens, positions) {
    const rows = await engine().logits(tokens, positions);
    return Comlink.transfer(rows, rows.map((r) => r.buffer as ArrayBuffer));
  },
  async stats() {
    return { ...engine().stats(), grammarLastGenerate: lastGrammar };
  },
  async dispose() {
    core?.dispose();
    core = null;
  },
};

Comlink.expose(api);

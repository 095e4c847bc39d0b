/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import type { EngineStats, ModelInfo } from '../api.ts';
import { EngineCore } from '../engine/engine.ts';
import { LayerstreamError } from '../errors.ts';
import { requestGPUDevice } from '../gpu/device.ts';
import type { ByteSource } from '../storage/byte-source.ts';
import { constraintFor } from '../grammar/for-tokenizer.ts';
import { markerTokens } from '../grammar/vocab.ts';
import { openModel } from '../storage/open-model.ts';
import { DEFAULT_RECOVERY, DeviceGuard, sharedSource } from './device-guard.ts';
import { installErrorTransfer, type LoadOptions, type WorkerApi } from './protocol.ts';

// The engine's home: one model per worker. All file reads and GPU work happen here, off the UI thread.
installErrorTransfer();

// The model's engine and its GPUDevice, rebuilt on a new device when that one is lost.
let guard: DeviceGuard | null = null;
const aborts = new Map<number, AbortController>();
/** the model's byte source, shared by every engine the guard builds */
let source: ByteSource | null = null;
/** constrained generation of the last generate (EngineStats.grammarLastGenerate) */
let lastGrammar: EngineStats['grammarLastGenerate'] = null;

function loaded(): DeviceGuard {
  if (!guard) throw new LayerstreamError('disposed', 'no model loaded');
  return guard;
}

/** The last engine built, for what needs no GPU (tokenizer, chat template, info, stats). */
function engine(): EngineCore {
  const e = loaded().last;
  if (!e) throw new LayerstreamError('disposed', 'no model loaded');
  return e;
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
    const { draftModel, draftGpuBudgetBytes, speculative, deviceRecovery, ...coreOpts } = opts;
    // every build (the first, and each after a device loss) reads the same source: EngineCore.dispose
    // must not close it, so it gets a view without close(); this worker closes it on dispose
    const shared = { ...opened, source: sharedSource(opened.source) };
    const build = async (device: GPUDevice): Promise<EngineCore> => {
      // a draft model first, on the same device, so the target plans around what it holds
      const draft = draftModel ? await loadDraft(draftModel, device, coreOpts, draftGpuBudgetBytes, onProgress) : null;
      let core: EngineCore | null = null;
      try {
        core = await EngineCore.load(shared, device, { ...coreOpts, draftBytes: draft?.gpuBytes, onProgress: (p, l, t) => void onProgress(p, l, t) });
        if (draft) core.attachDraft(draft);
        core.setDefaultSpeculative(speculative);
        return core;
      } catch (e) {
        if (core) core.dispose(); // (disposes an attached draft too)
        else draft?.dispose();
        throw e;
      }
    };
    const g = new DeviceGuard(build, requestGPUDevice, { ...DEFAULT_RECOVERY, ...deviceRecovery });
    try {
      const core = await g.start();
      guard = g;
      source = opened.source;
      return core.info;
    } catch (e) {
      g.dispose();
      opened.source.close?.();
      throw e;
    }
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
    const ac = new AbortController();
    aborts.set(id, ac);
    let constraint = undefined as Awaited<ReturnType<typeof constraintFor>>; // (set inside the closure below)
    lastGrammar = null;
    try {
      // on a rebuilt engine the K/V cache is empty: the whole prompt is prefilled again, which
      // rebuilds the conversation's context (same tokens as before the loss)
      return await loaded().use(async (e, lost) => {
        const tokens = typeof req.prompt === 'string' ? e.tokenizer.tokenize(req.prompt, { addSpecial: true }) : req.prompt;
        let sent = 0;
        const t0 = performance.now();
        constraint = await constraintFor(e.tokenizer, req.grammar); // compiled here: the matcher stays in the worker
        const compileMs = performance.now() - t0;
        for await (const t of e.generate({ ...req, tokens, signal: AbortSignal.any([ac.signal, lost]), constraint })) {
          DeviceGuard.check(lost);
          // one message per token keeps the stream live; not awaited, so it never slows decoding
          void onTokens([t]);
          sent++;
        }
        DeviceGuard.check(lost);
        const grammarMs = constraint && { maskPerToken: constraint.masks ? constraint.maskMs / constraint.masks : 0, masks: constraint.masks };
        if (constraint) lastGrammar = { compileMs, masks: constraint.masks, maskMsPerToken: grammarMs!.maskPerToken };
        return { sent, finish: e.lastFinish, promptTokens: tokens.length, cachedTokens: e.lastCachedTokens, ...(grammarMs ? { grammarMs } : {}) };
      });
    } finally {
      constraint?.dispose();
      aborts.delete(id);
    }
  },
  abort(id) {
    aborts.get(id)?.abort();
  },
  async logits(tokens, positions) {
    const rows = await loaded().use((e) => e.logits(tokens, positions));
    return Comlink.transfer(rows, rows.map((r) => r.buffer as ArrayBuffer));
  },
  async stats() {
    const g = loaded();
    return { ...engine().stats(), deviceLosses: g.losses, deviceRecoveries: g.recoveries, grammarLastGenerate: lastGrammar };
  },
  async dispose() {
    guard?.dispose();
    guard = null;
    source?.close?.();
    source = null;
  },
};

Comlink.expose(api);

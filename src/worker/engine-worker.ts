/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import type { ModelInfo } from '../api.ts';
import { EngineCore } from '../engine/engine.ts';
import { LayerstreamError } from '../errors.ts';
import { requestGPUDevice } from '../gpu/device.ts';
import { openModel } from '../storage/open-model.ts';
import { installErrorTransfer, type WorkerApi } from './protocol.ts';

// The engine's home: one model per worker. All file reads and GPU work happen here, off the UI thread.
installErrorTransfer();

let core: EngineCore | null = null;
const aborts = new Map<number, AbortController>();

function engine(): EngineCore {
  if (!core) throw new LayerstreamError('disposed', 'no model loaded');
  return core;
}

const api: WorkerApi = {
  async load(model, opts, onProgress): Promise<ModelInfo> {
    onProgress('header', 0, 0);
    const opened = await openModel(model);
    let device: GPUDevice | null = null;
    try {
      device = await requestGPUDevice();
      core = await EngineCore.load(opened, device, { ...opts, onProgress: (p, l, t) => void onProgress(p, l, t) });
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
    return { template: engine().chatTemplate, bosToken: text(t.bosId), eosToken: text(t.eosId), addBos: t.addBos };
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
    try {
      for await (const t of e.generate({ ...req, tokens, signal: ac.signal })) {
        // one message per token keeps the stream live; not awaited, so it never slows decoding
        void onTokens([t]);
        sent++;
      }
      return { sent, finish: e.lastFinish, promptTokens: tokens.length, cachedTokens: e.lastCachedTokens };
    } finally {
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
    return engine().stats();
  },
  async dispose() {
    core?.dispose();
    core = null;
  },
};

Comlink.expose(api);

/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { calibrate, measureEngineCosts } from '../advisor/calibrate.ts';
import { modelShape, type ModelShape } from '../advisor/model-shape.ts';
import type { DeviceFigures } from '../advisor/advise.ts';
import { LayerstreamError } from '../errors.ts';
import { requestGPUDevice } from '../gpu/device.ts';
import { isGpuType } from '../gpu/shaders.ts';
import { readGGUF } from '../gguf/gguf.ts';
import { readSplitGGUF, splitPartUrls } from '../gguf/split.ts';
import { BlobSource, HttpRangeSource, type ByteSource } from '../storage/byte-source.ts';
import { openModel } from '../storage/open-model.ts';
import { CACHE_SCHEME } from '../storage/scheme.ts';
import { installErrorTransfer } from './protocol.ts';

// The memory-fit advisor's worker: reads candidate models' headers by Range (never their weights),
// tells what the browser says of the device, and runs the calibration on a GPUDevice of its own
// (made for it and destroyed after, so the engine's device is not disturbed).
installErrorTransfer();

const KEEP_HEAD = 256 << 10;

/** Adapter text for Calibration.adapter and the UI: vendor, architecture, description. */
function adapterText(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  return [info.vendor, info.architecture, info.description].filter(Boolean).join(' · ') || 'unknown adapter';
}

const api = {
  /**
   * What the browser tells of this device (advise.ts DeviceFigures, without the calibration):
   * adapter limits, CPU fallback, navigator.deviceMemory, storage estimate; and the adapter as text.
   * Throws LayerstreamError('webgpu_unavailable').
   */
  async figures(): Promise<Omit<DeviceFigures, 'calibration'> & { adapter: string }> {
    const gpu = navigator.gpu;
    if (!gpu) throw new LayerstreamError('webgpu_unavailable', 'WebGPU is not available in this browser (navigator.gpu is missing)');
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new LayerstreamError('webgpu_unavailable', 'WebGPU is available but no GPU adapter was found');
    const info = adapter.info;
    const cpuFallback = info?.architecture === 'swiftshader' || /swiftshader/i.test(info?.description ?? '') || (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
    const est = await navigator.storage?.estimate?.().catch(() => null);
    return {
      adapter: adapterText(info),
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      minStorageBufferOffsetAlignment: adapter.limits.minStorageBufferOffsetAlignment,
      cpuFallback,
      deviceMemoryGiB: (navigator as Navigator & { deviceMemory?: number }).deviceMemory,
      storage: est ? { quotaBytes: est.quota ?? 0, usageBytes: est.usage ?? 0 } : null,
    };
  },

  /**
   * Measures this device (calibrate.ts) on devices of its own; `probeModel`: URL of a small GGUF (the
   * app's embedded model) run through the real engine for Calibration.dispatchMs and streamGroupMs
   * (measureEngineCosts).
   * Throws LayerstreamError('webgpu_unavailable').
   */
  async calibrate(probeModel?: string) {
    const device = await requestGPUDevice();
    let c;
    try {
      c = await calibrate(device, adapterText((device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo));
    } finally {
      device.destroy();
    }
    if (probeModel) {
      const res = await fetch(probeModel);
      if (!res.ok) throw new LayerstreamError('fetch_failed', `HTTP ${res.status} for the calibration model ${probeModel}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const f = await api.figures();
      Object.assign(c, await measureEngineCosts(bytes, f, c));
    }
    return c;
  },

  /**
   * The shape of a model (model-shape.ts) from its header only: a URL (all parts of a split GGUF,
   * read by Range), an `opfs:<id>` cached model, or a local file. Errors are the engine's own, so a
   * model it cannot run (architecture, tokenizer, tensor type) is refused before any download;
   * plus fetch_failed / no_range_support / not_gguf / truncated from reading.
   */
  async inspect(model: string | Blob): Promise<ModelShape> {
    let sources: ByteSource[] = [];
    try {
      if (typeof model !== 'string') sources = [new BlobSource(model)];
      else if (model.startsWith(CACHE_SCHEME)) {
        const opened = await openModel(model);
        sources = [opened.source];
      } else {
        const urls = splitPartUrls(model) ?? [model];
        sources = await Promise.all(urls.map((u, i) => HttpRangeSource.open(u, undefined, i === 0 ? KEEP_HEAD : 1)));
      }
      const gguf = sources.length === 1 ? await readGGUF(sources[0]) : (await readSplitGGUF(sources)).gguf;
      return modelShape(gguf, isGpuType, sources.reduce((s, x) => s + x.size, 0));
    } finally {
      for (const s of sources) s.close?.();
    }
  },
};

export type AdvisorWorkerApi = typeof api;
Comlink.expose(api);

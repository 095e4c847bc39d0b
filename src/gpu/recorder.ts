import type { PassTimer } from './pass-timer.ts';

/**
 * Records dispatches into one compute pass and submits on demand. Streaming needs a submit before
 * each upload into a pool slot (queue.writeBuffer is ordered against submitted work, not against
 * commands still being recorded), so the recorder is flushed there and at readbacks.
 */
export class Recorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** dispatches recorded since load */
  dispatches = 0;
  /** the unit (layer) now recording, for per-layer GPU timing */
  private unit = -1;

  /** @param timer when set, every compute pass is timed and a new pass starts at each unit change */
  constructor(private readonly device: GPUDevice, readonly timer: PassTimer | null = null) {}

  /** Work recorded from now on belongs to `unit` (a layer index; nLayers for the head). */
  setUnit(unit: number): void {
    if (unit === this.unit) return;
    this.unit = unit;
    if (this.timer && this.pass) {
      this.pass.end(); // a pass is timed as a whole, so units must not share one
      this.pass = null;
    }
  }

  computePass(): GPUComputePassEncoder {
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass({ timestampWrites: this.timer?.timestampWrites(this.unit) });
    }
    return this.pass;
  }

  dispatch(pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, x: number, y = 1, z = 1): void {
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
  }

  /** Ends the pass and returns the encoder for copies (the next dispatch opens a new pass). */
  commandEncoder(): GPUCommandEncoder {
    this.pass?.end();
    this.pass = null;
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.pass?.end();
    this.pass = null;
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
  }
}

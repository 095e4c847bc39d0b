/**
 * Copies `size` bytes at `offset` of a GPU buffer (which needs COPY_SRC) back to the CPU through a
 * reusable MAP_READ staging buffer. Submits pending work first via `flush`.
 */
export class Readback {
  private staging: GPUBuffer | null = null;
  /** reads since creation (each one a GPU round trip: submit, then wait for the map) */
  reads = 0;
  constructor(private readonly device: GPUDevice) {}

  /** Bytes held by the staging buffer. */
  get bytes(): number {
    return this.staging?.size ?? 0;
  }

  /** Grows the staging buffer up front (at load) so reads during generation allocate nothing. */
  reserve(size: number): void {
    if (this.staging && this.staging.size >= size) return;
    this.staging?.destroy();
    this.staging = this.device.createBuffer({ label: 'readback', size: Math.ceil(size / 4) * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  async read(src: GPUBuffer, offset: number, size: number, encoder?: GPUCommandEncoder): Promise<ArrayBuffer> {
    this.reserve(size);
    this.reads++;
    const staging = this.staging!;
    const enc = encoder ?? this.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, offset, staging, 0, Math.ceil(size / 4) * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, Math.ceil(size / 4) * 4);
    const out = staging.getMappedRange(0, Math.ceil(size / 4) * 4).slice(0, size);
    staging.unmap();
    return out;
  }
}

/**
 * GPU time per unit of work (a layer) from timestamp queries: each compute pass gets a begin and
 * an end timestamp and is tagged with the unit that recorded it; collect() resolves the queries and
 * sums (end − begin) per unit. Needs the device feature 'timestamp-query' (WebGPU spec §20.4
 * "Timestamp Query"); browsers may quantize timestamps (Chrome: to 100 µs without the
 * developer flag), so per-layer figures under ~0.1 ms are coarse.
 */
export class PassTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private readonly readback: GPUBuffer;
  /** unit of each timed pass since the last collect(), in query order */
  private passUnits: number[] = [];

  /** @param maxPasses compute passes timed per collect() (later ones go untimed). */
  constructor(private readonly device: GPUDevice, private readonly maxPasses = 2048) {
    this.querySet = device.createQuerySet({ label: 'pass timestamps', type: 'timestamp', count: 2 * maxPasses });
    this.resolve = device.createBuffer({ label: 'timestamps', size: 16 * maxPasses, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = device.createBuffer({ label: 'timestamps readback', size: 16 * maxPasses, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  static supported(device: GPUDevice): boolean {
    return device.features.has('timestamp-query');
  }

  /** GPU bytes held (query results and their readback). */
  get bytes(): number {
    return this.resolve.size + this.readback.size;
  }

  /** timestampWrites for a new compute pass of `unit` (undefined once maxPasses are taken). */
  timestampWrites(unit: number): GPUComputePassTimestampWrites | undefined {
    const i = this.passUnits.length;
    if (i >= this.maxPasses) return undefined;
    this.passUnits.push(unit);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /**
   * Resolves the passes timed since the last call (all must be submitted) and returns GPU
   * milliseconds per unit (units with no timed pass are absent). Starts a new round.
   */
  async collect(): Promise<Map<number, number>> {
    const units = this.passUnits;
    this.passUnits = [];
    const ms = new Map<number, number>();
    if (!units.length) return ms;
    const enc = this.device.createCommandEncoder();
    enc.resolveQuerySet(this.querySet, 0, 2 * units.length, this.resolve, 0);
    enc.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16 * units.length);
    this.device.queue.submit([enc.finish()]);
    await this.readback.mapAsync(GPUMapMode.READ, 0, 16 * units.length);
    const t = new BigInt64Array(this.readback.getMappedRange(0, 16 * units.length));
    units.forEach((u, i) => {
      const d = Number(t[2 * i + 1] - t[2 * i]) / 1e6;
      if (d >= 0) ms.set(u, (ms.get(u) ?? 0) + d); // a pass the implementation did not time reads 0/garbage
    });
    this.readback.unmap();
    return ms;
  }
}

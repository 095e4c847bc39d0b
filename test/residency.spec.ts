import { test, expect } from '@playwright/test';
import { defaultGpuBudget, maxSlotBytes, planResidency, type TensorUse } from '../src/engine/residency.ts';
import { RamTier } from '../src/engine/ram-tier.ts';
import { stagingChunks } from '../src/engine/weights.ts';

// The residency planner and the RAM tier are pure arithmetic: tested here in Node, no browser.

const MiB = 1 << 20;

/** A llama-like layer list: per layer 4 attention tensors of 4 MiB and 3 FFN tensors of 12 MiB, then a 16 MiB head. */
function uses(layers: number): TensorUse[] {
  const out: TensorUse[] = [];
  let off = 0;
  const add = (name: string, unit: number, bytes: number) => {
    out.push({ name, unit, rows: bytes / 1024, rowBytes: 1024, fileOffset: off });
    off += bytes;
  };
  for (let l = 0; l < layers; l++) {
    for (const t of ['q', 'k', 'v', 'o']) add(`blk.${l}.attn_${t}.weight`, l, 4 * MiB);
    for (const t of ['gate', 'up', 'down']) add(`blk.${l}.ffn_${t}.weight`, l, 12 * MiB);
  }
  add('output.weight', layers, 16 * MiB);
  return out;
}

test('slots are capped at a 32nd of the budget (≥ 8 MiB): a 52 MiB layer streams as several groups, the budget holds', () => {
  expect(maxSlotBytes(256 * MiB)).toBe(8 * MiB);
  expect(maxSlotBytes(4096 * MiB)).toBe(128 * MiB);
  const plan = planResidency(uses(20), { budgetBytes: 256 * MiB, reserved: { 'K/V cache': 20 * MiB }, maxBindingBytes: 1 << 30, align: 256, nUnits: 21 });
  expect(plan.slotBytes).toBe(8 * MiB);
  for (const g of plan.groups) expect(g.bytes).toBeLessThanOrEqual(plan.slotBytes);
  // a 12 MiB tensor does not fit an 8 MiB slot: it is split into row pieces
  const down = plan.groups.flatMap((g) => g.pieces).filter((p) => p.tensor === 'blk.19.ffn_down.weight');
  expect(down.length).toBe(2);
  expect(down.reduce((s, p) => s + p.rows, 0)).toBe(12 * 1024);
  expect(plan.residentBytes + plan.slots * plan.slotBytes + 20 * MiB).toBeLessThanOrEqual(256 * MiB);
  // the head is pinned first, then layers in forward order
  expect(plan.unitResident[20]).toBe(true);
  expect(plan.unitResident[0]).toBe(true);
  expect(plan.unitResident[19]).toBe(false);
  // with a big budget the slot is one whole layer again
  const big = planResidency(uses(200), { budgetBytes: 4096 * MiB, maxBindingBytes: 1 << 30, align: 256, nUnits: 201 });
  expect(big.slotBytes).toBe(52 * MiB);
});

test('the RAM tier keeps the most recently used images within its budget', () => {
  const ram = new RamTier(10);
  const fill = (g: number, n: number) => {
    const b = ram.admit(n)!;
    b.fill(g);
    ram.put(g, b);
  };
  fill(1, 4);
  fill(2, 4);
  expect(ram.get(1)![0]).toBe(1); // 1 is now the most recently used
  fill(3, 4); // evicts 2, the least recently used
  expect(ram.has(2)).toBe(false);
  expect(ram.has(1) && ram.has(3)).toBe(true);
  expect(ram.bytesUsed).toBe(8);
  expect(ram.admit(11)).toBeNull(); // bigger than the whole budget
  const b = ram.admit(4)!;
  ram.cancel(b); // a failed read gives its room back
  expect(ram.bytesUsed).toBeLessThanOrEqual(10);
  expect(new RamTier(0).admit(1)).toBeNull();
});

test('staging is a sixteenth of the budget, 4 to 16 chunks', () => {
  expect(stagingChunks(256 * MiB, 4 * MiB)).toBe(4);
  expect(stagingChunks(512 * MiB, 4 * MiB)).toBe(8);
  expect(stagingChunks(64 * 1024 * MiB, 4 * MiB)).toBe(16);
  expect(stagingChunks(1 * MiB, 64 * 1024)).toBe(4);
});

test('default GPU budget: half of navigator.deviceMemory, a quarter on a CPU fallback adapter, ≤ 4 × maxBufferSize, 256 MiB .. 4 GiB', () => {
  const GiB = 1024 * MiB;
  const gpu = { maxBufferSize: 4 * GiB, cpuFallback: false };
  expect(defaultGpuBudget(8, gpu)).toBe(4 * GiB);
  expect(defaultGpuBudget(4, gpu)).toBe(2 * GiB);
  expect(defaultGpuBudget(undefined, gpu)).toBe(2 * GiB); // unknown: taken as 4 GiB of RAM
  expect(defaultGpuBudget(0.25, gpu)).toBe(256 * MiB); // the floor
  expect(defaultGpuBudget(8, { maxBufferSize: 1 * GiB, cpuFallback: true })).toBe(2 * GiB);
  expect(defaultGpuBudget(8, { maxBufferSize: 256 * MiB, cpuFallback: false })).toBe(1 * GiB);
});

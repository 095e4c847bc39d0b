import { LayerstreamError } from '../errors.ts';
import { formatBytes } from '../format-bytes.ts';

/**
 * Residency planning: which weight bytes live on the GPU for the whole session and which stream
 * through a ring of pool slots every forward pass. Pure arithmetic, no GPU.
 *
 * The unit of upload is a *group*: consecutive tensors of one layer (or row pieces of one tensor)
 * whose aligned size fits a slot. Groups never span layers, so "layer resident" is well defined.
 */

/** One weight tensor the forward pass uses, in the order it uses them. */
export interface TensorUse {
  name: string;
  /** layer index, nLayers for the output head and final norm, or -1 for small tensors every layer
   * reads (RoPE factors), which are always resident */
  unit: number;
  /** rows (product of ne[1..]) and bytes per row */
  rows: number;
  rowBytes: number;
  /** absolute file offset of the tensor data */
  fileOffset: number;
  /** 3-D expert tensors (ffn_*_exps): rows per expert; each expert is a contiguous row range */
  rowsPerExpert?: number;
}

/** A contiguous row range of a tensor placed at `groupOffset` inside its group's buffer. */
export interface Piece {
  tensor: string;
  row0: number;
  rows: number;
  /** absolute file offset / bytes of the piece */
  fileOffset: number;
  nBytes: number;
  /** byte offset inside the group buffer (a multiple of the binding alignment) */
  groupOffset: number;
}

export interface Group {
  index: number;
  unit: number;
  pieces: Piece[];
  /** bytes the group occupies (last piece end, padded to 4) */
  bytes: number;
  resident: boolean;
  /** for streamed groups: which pool slot (ring position) it is uploaded into; -1 for expert groups
   * served by the expert cache */
  slot: number;
  /** one expert's slice of a 3-D expert tensor (streamed through the expert cache when there is one) */
  expert?: boolean;
}

export interface ResidencyPlan {
  groups: Group[];
  /** number of streaming slots (0 when everything is resident) and bytes per slot */
  slots: number;
  slotBytes: number;
  /** GPU expert cache (mixture of experts, LRU): slots and bytes per slot (0 when none) */
  expertSlots: number;
  expertSlotBytes: number;
  residentBytes: number;
  /** bytes uploaded per forward pass */
  streamedBytes: number;
  /** the whole GPU budget, and the part left for weights after the reserved bytes (K/V cache, scratch) */
  budgetBytes: number;
  weightBudgetBytes: number;
  /** per unit (layers, then the head): resident when all of its groups are */
  unitResident: boolean[];
}

export interface PlanOptions {
  /** GPU memory for everything: weights + `reserved` */
  budgetBytes: number;
  /** GPU bytes the engine needs besides weights, by what for (K/V cache, scratch): taken off the budget first */
  reserved?: Record<string, number>;
  /** largest buffer binding (maxStorageBufferBindingSize), bytes */
  maxBindingBytes: number;
  /** binding offset alignment (minStorageBufferOffsetAlignment), bytes */
  align: number;
  nUnits: number;
  /** streaming slots when the model does not fit (2 lets one upload while the other computes) */
  ringSlots?: number;
  /**
   * largest streaming slot, bytes (default maxSlotBytes(budgetBytes)): a layer bigger than this streams as
   * several groups. The bytes of the group being uploaded wait in the browser's transfer buffers
   * until the GPU has finished the work queued before them, so smaller groups mean less memory
   * in flight (and more of the budget for resident layers); a tensor's row is never split.
   */
  maxSlotBytes?: number;
  /** mixture of experts: expert slices one token uses (3 × experts used × MoE layers) */
  expertWorkingSet?: number;
  /**
   * mixture of experts: a token uploads only the experts its router picks, through an LRU expert
   * cache (default true). false: no expert cache; experts stream through the ring like any weight
   * (the forward pass then runs every expert: see ForwardContext.sparseExperts).
   */
  expertStreaming?: boolean;
}

const up = (n: number, a: number) => Math.ceil(n / a) * a;

/**
 * The GPU budget when EngineOptions.gpuBudgetBytes is not given, bytes (K/V cache + scratch +
 * weights). WebGPU tells no GPU's memory size, so this goes by what the browser does tell:
 * `deviceMemory` (navigator.deviceMemory: GiB of RAM, rounded to a power of two and capped by the
 * browser; 4 when unknown) and the adapter:
 * - half of that RAM, leaving the rest to the page, the browser and the OS; a quarter on a CPU
 *   fallback adapter (SwiftShader), whose "GPU" buffers are ordinary RAM of the browser's GPU process;
 * - at most 4 × maxBufferSize (the device's largest buffer: a small one means a small GPU);
 * - 256 MiB .. 4 GiB.
 * The user sets gpuBudgetBytes (the app's budget field) to go beyond it.
 */
export function defaultGpuBudget(deviceMemory: number | undefined, adapter: { maxBufferSize: number; cpuFallback: boolean }): number {
  const MiB = 1 << 20;
  const ram = (deviceMemory && deviceMemory > 0 ? deviceMemory : 4) * 1024 * MiB;
  const share = adapter.cpuFallback ? ram / 4 : ram / 2;
  return Math.floor(Math.max(256 * MiB, Math.min(4096 * MiB, share, 4 * adapter.maxBufferSize)));
}

/**
 * Default cap on a streaming slot, bytes (PlanOptions.maxSlotBytes): a 32nd of the budget, at least
 * 8 MiB. Small budgets get small groups (little memory in flight); big ones get few groups (each
 * costs a submit and a wait for the GPU per token).
 */
export function maxSlotBytes(budgetBytes: number): number {
  return Math.max(8 << 20, Math.floor(budgetBytes / 32));
}

/**
 * Splits the uses into groups of at most `maxBytes` each (tensors split by rows when larger). With
 * `splitExperts`, every expert of a 3-D expert tensor becomes its own group, so a token uploads only
 * the experts its router picks.
 */
export function formGroups(uses: TensorUse[], maxBytes: number, align: number, splitExperts = false): Group[] {
  const groups: Group[] = [];
  let cur: Group | null = null;
  const close = () => {
    if (cur && cur.pieces.length) groups.push(cur);
    cur = null;
  };
  const open = (unit: number): Group => ({ index: 0, unit, pieces: [], bytes: 0, resident: true, slot: -1 });
  for (const u of uses) {
    const nBytes = u.rows * u.rowBytes;
    if (cur && (cur as Group).unit !== u.unit) close();
    if (splitExperts && u.rowsPerExpert) {
      close();
      for (let r = 0; r < u.rows; r += u.rowsPerExpert) {
        const part = { ...u, rowsPerExpert: undefined, rows: u.rowsPerExpert, fileOffset: u.fileOffset + r * u.rowBytes };
        groups.push(...formGroups([part], maxBytes, align).map((g) => ({ ...shiftRows(g, r), expert: true })));
      }
      continue;
    }
    if (up(nBytes, 4) <= maxBytes) {
      let g: Group = cur ?? open(u.unit);
      let off = g.pieces.length ? up(g.bytes, align) : 0;
      if (off + up(nBytes, 4) > maxBytes) {
        close();
        g = open(u.unit);
        off = 0;
      }
      g.pieces.push({ tensor: u.name, row0: 0, rows: u.rows, fileOffset: u.fileOffset, nBytes, groupOffset: off });
      g.bytes = off + up(nBytes, 4);
      cur = g;
      continue;
    }
    close();
    const rowsPer = Math.floor((maxBytes - 3) / u.rowBytes);
    if (rowsPer < 1) throw new LayerstreamError('budget_too_small', `a row of ${u.name} (${u.rowBytes} bytes) does not fit a ${maxBytes}-byte slot`);
    for (let r = 0; r < u.rows; r += rowsPer) {
      const rows = Math.min(rowsPer, u.rows - r);
      const g = open(u.unit);
      g.pieces.push({ tensor: u.name, row0: r, rows, fileOffset: u.fileOffset + r * u.rowBytes, nBytes: rows * u.rowBytes, groupOffset: 0 });
      g.bytes = up(rows * u.rowBytes, 4);
      groups.push(g);
    }
  }
  close();
  groups.forEach((g, i) => (g.index = i));
  return groups;
}

/** The group with its pieces' rows counted from `r` (pieces of a part of a tensor). */
function shiftRows(g: Group, r: number): Group {
  return { ...g, pieces: g.pieces.map((p) => ({ ...p, row0: p.row0 + r })) };
}

/** Smallest slot that can hold every tensor, splitting by rows where possible (1 row minimum). */
export function minSlotBytes(uses: TensorUse[]): number {
  return Math.max(...uses.map((u) => up(u.rows > 1 ? u.rowBytes : u.rowBytes * u.rows, 4)));
}

/**
 * Decides residency under `budgetBytes` (reserved bytes + resident groups + slots ≤ budget).
 * Everything fits → all resident, no slots. Otherwise `ringSlots` slots of one layer's size (at most
 * maxSlotBytes and a quarter of the budget, at least one row of the widest tensor) stream what does not fit; globals,
 * then the output head, then layers in forward order are pinned while the rest of the budget lasts.
 * Throws LayerstreamError('budget_too_small') naming the minimum budget that would work.
 */
export function planResidency(uses: TensorUse[], o: PlanOptions): ResidencyPlan {
  const K = o.ringSlots ?? 2;
  const reserved = Object.values(o.reserved ?? {}).reduce((s, v) => s + v, 0);
  const reservedText = Object.entries(o.reserved ?? {}).map(([what, n]) => `${n} for the ${what}`).join(', ');
  const budget = o.budgetBytes - reserved; // for weights
  const natural = formGroups(uses, o.maxBindingBytes, o.align);
  const total = natural.reduce((s, g) => s + up(g.bytes, o.align), 0);
  const unitBytes = new Array(o.nUnits).fill(0);
  for (const g of natural) if (g.unit >= 0) unitBytes[g.unit] += up(g.bytes, o.align);
  const base = { budgetBytes: o.budgetBytes, weightBudgetBytes: budget };
  if (total <= budget) {
    return { ...base, groups: natural, slots: 0, slotBytes: 0, expertSlots: 0, expertSlotBytes: 0, residentBytes: total, streamedBytes: 0, unitResident: unitBytes.map(() => true) };
  }
  const minSlot = up(minSlotBytes(uses), o.align);
  const globals = natural.filter((g) => g.unit < 0).reduce((s, g) => s + up(g.bytes, o.align), 0);
  const minBudget = reserved + K * minSlot + globals;
  if (o.budgetBytes < minBudget) {
    throw new LayerstreamError(
      'budget_too_small',
      `GPU budget of ${formatBytes(o.budgetBytes)} (${o.budgetBytes} bytes) is too small: it needs at least ${minBudget} bytes = ${formatBytes(minBudget)} ` +
        `(${reservedText ? `${reservedText}, ` : ''}${K} streaming slots of ${minSlot} bytes${globals ? `, ${globals} always resident` : ''}); ` +
        `the whole model resident needs ${formatBytes(reserved + total)}`,
    );
  }
  const largestUnit = Math.max(...unitBytes);
  const slotBytes = Math.max(minSlot, Math.min(largestUnit, o.maxBindingBytes, o.maxSlotBytes ?? maxSlotBytes(o.budgetBytes), Math.floor(budget / (2 * K) / o.align) * o.align));
  const groups = formGroups(uses, slotBytes, o.align, true);
  let left = budget - K * slotBytes;
  // Mixture of experts: an LRU cache of expert slices, so experts that a run of tokens keeps choosing
  // stay on the GPU. It only pays once it holds one token's working set (below that, LRU over a
  // cyclic pass evicts each slice just before it is needed again), so it gets at least that, up to
  // half of what the ring leaves — or nothing, and experts stream through the ring.
  const expertGroups = groups.filter((g) => g.expert);
  const expertSlotBytes = expertGroups.length ? Math.max(...expertGroups.map((g) => up(g.bytes, o.align))) : 0;
  const workingSet = o.expertWorkingSet ?? 0;
  const expertSlots = o.expertStreaming !== false && expertSlotBytes && workingSet * expertSlotBytes <= left ? Math.min(expertGroups.length, Math.max(workingSet, Math.floor(left / 2 / expertSlotBytes))) : 0;
  left -= expertSlots * expertSlotBytes;
  let residentBytes = 0;
  let streamedBytes = 0;
  // Pinned first: globals (every layer reads them), then the output head (the widest matmul, and
  // last in the pass, so a streamed head would have no compute after it to hide its upload behind),
  // then layers in forward order while the budget lasts.
  const head = o.nUnits - 1;
  const order = [...groups.filter((g) => g.unit < 0), ...groups.filter((g) => g.unit === head), ...groups.filter((g) => g.unit >= 0 && g.unit !== head && !(expertSlots && g.expert))];
  if (expertSlots) {
    for (const g of expertGroups) {
      g.resident = false;
      streamedBytes += g.pieces.reduce((s, p) => s + p.nBytes, 0);
    }
  }
  for (const g of order) {
    const b = up(g.bytes, o.align);
    if (g.unit < 0 && b > left) {
      throw new LayerstreamError('budget_too_small', `GPU budget of ${o.budgetBytes} bytes is too small: ${reservedText ? `${reservedText}, ` : ''}${K} streaming slots of ${slotBytes} bytes and ${b} bytes of always-resident tensors do not fit`);
    }
    if (b <= left) {
      left -= b;
      residentBytes += b;
      g.resident = true;
    } else {
      g.resident = false;
      streamedBytes += g.pieces.reduce((s, p) => s + p.nBytes, 0);
    }
  }
  // slots go round-robin in forward order, so consecutive streamed groups use different slots
  let ring = 0;
  for (const g of groups) if (!g.resident) g.slot = expertSlots && g.expert ? -1 : ring++ % K;
  const unitResident = unitBytes.map((_, u) => groups.every((g) => g.unit !== u || g.resident));
  return { ...base, groups, slots: K, slotBytes, expertSlots, expertSlotBytes, residentBytes, streamedBytes, unitResident };
}

// Node-side test helper: GGUF headers of real model shapes (1B–70B) made from a small shared model's
// header, without tensor data. The metadata is the shared model's with hyperparameters overridden
// (block_count, embedding_length, …); the tensor list is what the architecture module itself asks
// for under those hyperparameters (Architecture.weights), each tensor typed as the shared model's
// tensor of the same role. Read through HeaderOnlySource, which claims the whole file's size, so
// the engine's checks (check-model.ts: shapes against hyperparameters, extents against the size) run
// exactly as on a real file.
import { readFileSync } from 'node:fs';
import { Metadata, readGGUF, type GGUFFile, type GGUFTensorInfo } from '../../src/gguf/gguf.ts';
import { architectureFor } from '../../src/models/registry.ts';
import type { ByteSource } from '../../src/storage/byte-source.ts';
import { LayerstreamError } from '../../src/errors.ts';
import { parseForWrite, writeGGUFHeader, type GGUFKV } from './gguf-writer.ts';

/** Header bytes, then zeros up to `size` (the tensor data nobody reads when planning). */
export class HeaderOnlySource implements ByteSource {
  constructor(private readonly header: Uint8Array, readonly size: number, readonly name = 'generated.gguf') {}
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) throw new LayerstreamError('truncated', `read ${offset}+${length} past ${this.size}`);
    const out = new Uint8Array(length);
    if (offset < this.header.length) out.set(this.header.subarray(offset, Math.min(offset + length, this.header.length)));
    return out;
  }
  async readInto(offset: number, dest: Uint8Array): Promise<void> {
    dest.set(await this.read(offset, dest.byteLength));
  }
}

/** The shared model's blk.N tensor that plays the role of blk.M's (same suffix, layer M mod layers). */
function roleOf(name: string, old: ReadonlyMap<string, GGUFTensorInfo>, oldLayers: number): GGUFTensorInfo | undefined {
  const m = /^blk\.(\d+)\.(.*)$/.exec(name);
  if (!m) return old.get(name);
  return old.get(`blk.${Number(m[1]) % oldLayers}.${m[2]}`);
}

/**
 * A generated header: `base` (a file under ../shared/models) with `overrides` (metadata key → new
 * numeric value, its GGUF type kept) applied. Returns the parsed header, its source and the size of
 * the file it heads (bytes).
 */
export async function scaledHeader(base: URL, overrides: Record<string, number>): Promise<{ gguf: GGUFFile; source: HeaderOnlySource; fileBytes: number }> {
  const bytes = new Uint8Array(readFileSync(base));
  const { metadata, alignment } = await parseForWrite(bytes);
  const old = await readGGUF(new HeaderOnlySource(bytes, bytes.length));
  const archName = String(old.metadata.get('general.architecture'));
  const oldLayers = Number(old.metadata.get(`${archName}.block_count`));
  const meta: GGUFKV[] = metadata.map(([k, t, v]) => (k in overrides ? [k, t, overrides[k]] : [k, t, v]));
  const md = new Map(meta.map(([k, , v]) => [k, v]));
  // the architecture sees the new metadata and the old tensors in the roles of the new layers
  const byName = new Map(old.tensorByName);
  const newLayers = Number(md.get(`${archName}.block_count`));
  const extra: GGUFTensorInfo[] = [];
  for (let l = oldLayers; l < newLayers; l++) {
    for (const t of old.tensors) {
      const m = /^blk\.(\d+)\.(.*)$/.exec(t.name);
      if (m && Number(m[1]) === l % oldLayers) extra.push({ ...t, name: `blk.${l}.${m[2]}` });
    }
  }
  const view: GGUFFile = {
    ...old,
    metadata: md,
    tensors: [...old.tensors, ...extra],
    tensorByName: { get: (n: string) => roleOf(n, byName, oldLayers), has: (n: string) => !!roleOf(n, byName, oldLayers) } as unknown as ReadonlyMap<string, GGUFTensorInfo>,
  };
  const arch = architectureFor(archName);
  const h = arch.hparams(new Metadata(md), view);
  const embd = old.tensorByName.get('token_embd.weight')!;
  const tensors: { name: string; ne: number[]; typeId: number }[] = [{ name: 'token_embd.weight', ne: [h.nEmbd, embd.ne[1]], typeId: embd.type.id }];
  for (const spec of arch.weights(h, view)) {
    if (spec.name === 'token_embd.weight') continue;
    const role = roleOf(spec.name, byName, oldLayers);
    if (!role) {
      if (spec.optional) continue;
      throw new Error(`scaledHeader: ${archName} needs ${spec.name}, which ${base.pathname} has no role for`);
    }
    tensors.push({ name: spec.name, ne: spec.ne, typeId: role.type.id });
  }
  const { header, fileBytes } = writeGGUFHeader({ metadata: meta, tensors, alignment });
  const source = new HeaderOnlySource(header, fileBytes);
  return { gguf: await readGGUF(source), source, fileBytes };
}

import type { ForwardContext, WeightSpec } from './architecture.ts';
import type { TransformerHParams } from './hparams.ts';

/**
 * Mixture-of-experts feed-forward (llama.cpp build_moe_ffn): a router picks k experts per token, only
 * those run (and, when streamed, only their slices of ffn_*_exps are uploaded), and their outputs
 * are summed with the router's weights; an optional shared expert (ffn_*_shexp) always runs.
 * Shapes: [T, width] float32 activations; expert e is rows [e·n, (e+1)·n) of a 3-D tensor.
 */

type H = TransformerHParams;

/** How the router turns logits [T, n_expert] into expert weights (llama_expert_gating_func_type). */
export interface Gating {
  /**
   * 'softmax': top-k of softmax(logits) (Mixtral, Qwen3-MoE); 'softmax_weight': top-k of the raw
   * logits, then a softmax over those k (gpt-oss); 'sigmoid': top-k of sigmoid(logits) (DeepSeek-V3).
   */
  func: 'softmax' | 'softmax_weight' | 'sigmoid';
  /** experts per token (n_expert_used) */
  k: number;
  /** divide the chosen weights by their sum (expert_weights_norm) */
  norm: boolean;
  /** multiply the weights (expert_weights_scale; 1 = none) */
  scale: number;
  /** group-limited selection: experts in n groups, only the `used` groups with the best top-2 sums compete */
  groups?: { n: number; used: number };
}

/** The router of every MoE layer of `h` (softmax, renormalized: Mixtral's), unless the architecture says otherwise. */
export function defaultGating(h: H): Gating {
  return { func: 'softmax', k: h.nExpertUsed, norm: h.expertWeightsNorm, scale: 1 };
}

/** Indices of the k largest of `v` (ties: lower index first), best first. */
function topK(v: ArrayLike<number>, k: number): number[] {
  return Array.from(v, (x, i) => [x, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map(([, i]) => i);
}

/**
 * Per token, the experts the router picks and their weights: returns weights[e][t] (0 where token t
 * does not use expert e). logits: [T, nExpert] (bias already added). selectionBias [nExpert]
 * (exp_probs_b): added to the scores for choosing only, the weights use the unbiased scores.
 * Source: llama.cpp llama-graph.cpp build_moe_ffn (gating, group selection, norm clamp, scale).
 */
export function route(logits: Float32Array, T: number, nExpert: number, g: Gating, selectionBias?: Float32Array): Float32Array[] {
  const w = Array.from({ length: nExpert }, () => new Float32Array(T));
  for (let t = 0; t < T; t++) {
    const row = Array.from(logits.subarray(t * nExpert, (t + 1) * nExpert));
    let probs = row;
    if (g.func === 'softmax') {
      const mx = Math.max(...row);
      const e = row.map((v) => Math.exp(v - mx));
      const z = e.reduce((s, v) => s + v, 0);
      probs = e.map((v) => v / z);
    } else if (g.func === 'sigmoid') {
      probs = row.map((v) => 1 / (1 + Math.exp(-v)));
    }
    const sel = selectionBias ? probs.map((p, e) => p + selectionBias[e]) : probs.slice();
    if (g.groups && g.groups.n > 1) {
      const per = nExpert / g.groups.n;
      const score = Array.from({ length: g.groups.n }, (_, gi) => topK(sel.slice(gi * per, (gi + 1) * per), 2).reduce((s, i) => s + sel[gi * per + i], 0));
      const keep = new Set(topK(score, g.groups.used));
      for (let e = 0; e < nExpert; e++) if (!keep.has(Math.floor(e / per))) sel[e] = -Infinity;
    }
    const chosen = topK(sel, g.k);
    let ws = chosen.map((e) => probs[e]);
    if (g.func === 'softmax_weight') {
      const mx = Math.max(...ws);
      const e = ws.map((v) => Math.exp(v - mx));
      const z = e.reduce((s, v) => s + v, 0);
      ws = e.map((v) => v / z);
    }
    if (g.norm) {
      const sum = Math.max(ws.reduce((s, v) => s + v, 0), 6.103515625e-5); // llama.cpp clamps to the smallest f16 normal
      ws = ws.map((v) => v / sum);
    }
    chosen.forEach((e, i) => (w[e][t] = ws[i] * g.scale));
  }
  return w;
}

/** Selection biases read back once per loaded model (they are weights: constant), by tensor name. */
const selectionBiases = new WeakMap<ForwardContext, Map<string, Float32Array>>();

/** The `exp_probs_b` vector [nExpert] on the CPU, where route() needs it: read from the GPU on first use only. */
async function selectionBias(f: ForwardContext, name: string, nExpert: number): Promise<Float32Array> {
  let m = selectionBiases.get(f);
  if (!m) selectionBiases.set(f, (m = new Map()));
  let v = m.get(name);
  if (!v) m.set(name, (v = await f.read((await f.vector(name)).pieces[0].view, nExpert)));
  return v;
}

/**
 * Mixture-of-experts weights of layer l, in the order moeFeedForward reads them: norm (`norm`, or
 * none when the architecture normalizes elsewhere), router (+ bias), the 3-D expert tensors (+
 * per-expert biases), the selection bias, and the shared expert of width nFFShared (0 = none) with,
 * when `shexpGate`, its per-token gate ffn_gate_inp_shexp [n_embd] (qwen35moe).
 */
export function moeWeights(l: number, h: H, o: { norm?: string | null; nFFShared?: number; shexpGate?: boolean } = {}): WeightSpec[] {
  const p = `blk.${l}.`;
  const norm = o.norm === undefined ? 'ffn_norm' : o.norm;
  const w: WeightSpec[] = norm ? [{ name: `${p}${norm}.weight`, unit: l, ne: [h.nEmbd] }] : [];
  const bias = (n: string, ne: number[]): WeightSpec => ({ name: `${p}${n}.bias`, unit: l, ne, optional: true });
  w.push(
    { name: `${p}ffn_gate_inp.weight`, unit: l, ne: [h.nEmbd, h.nExpert] }, bias('ffn_gate_inp', [h.nExpert]),
    { name: `${p}exp_probs_b.bias`, unit: l, ne: [h.nExpert], optional: true },
    { name: `${p}ffn_gate_exps.weight`, unit: l, ne: [h.nEmbd, h.nFF, h.nExpert] }, bias('ffn_gate_exps', [h.nFF, h.nExpert]),
    { name: `${p}ffn_up_exps.weight`, unit: l, ne: [h.nEmbd, h.nFF, h.nExpert] }, bias('ffn_up_exps', [h.nFF, h.nExpert]),
    { name: `${p}ffn_down_exps.weight`, unit: l, ne: [h.nFF, h.nEmbd, h.nExpert] }, bias('ffn_down_exps', [h.nEmbd, h.nExpert]),
  );
  const s = o.nFFShared ?? 0;
  if (s > 0) {
    w.push(
      { name: `${p}ffn_gate_shexp.weight`, unit: l, ne: [h.nEmbd, s] },
      { name: `${p}ffn_up_shexp.weight`, unit: l, ne: [h.nEmbd, s] },
      { name: `${p}ffn_down_shexp.weight`, unit: l, ne: [s, h.nEmbd] },
    );
    if (o.shexpGate) w.push({ name: `${p}ffn_gate_inp_shexp.weight`, unit: l, ne: [h.nEmbd] });
  }
  return w;
}

/**
 * x += Σ_e w[e] · expert_e(xn) (+ shared_expert(xn)) over the experts the router picks. The router
 * logits are read back so only the chosen experts run. Per-expert biases (gpt-oss) are rows of the
 * ffn_*_exps.bias tensors. act: the experts' GLU ('swiglu_oai' for gpt-oss); nFFShared: the shared
 * expert's width (0 = none; the activations g, u, h must hold it). With ffn_gate_inp_shexp in the
 * file the shared expert's output is scaled per token by sigmoid(ffn_gate_inp_shexp · xn) (llama.cpp
 * qwen35moe.cpp build_layer_ffn, Qwen3-Next's shared_expert_gate).
 */
export async function moeFeedForward(
  f: ForwardContext, h: H, l: number,
  o: { gating?: Gating; act?: H['ffnAct'] | 'swiglu_oai'; nFFShared?: number } = {},
): Promise<void> {
  const { a, k } = f;
  const g = o.gating ?? defaultGating(h);
  const act = o.act ?? h.ffnAct;
  const p = `blk.${l}.`;
  const has = (n: string) => f.has(`${p}${n}`);
  await f.matmul(a.router, `${p}ffn_gate_inp.weight`, a.xn); //             router [T, n_expert]
  if (has('ffn_gate_inp.bias')) k.addRow(a.router, await f.vector(`${p}ffn_gate_inp.bias`), h.nExpert);
  const selBias = has('exp_probs_b.bias') ? await selectionBias(f, `${p}exp_probs_b.bias`, h.nExpert) : undefined;
  const weights = route(await f.read(a.router, f.T * h.nExpert), f.T, h.nExpert, g, selBias);
  const addBias = async (y: typeof a.g, n: string, width: number, e: number) => {
    if (has(`${n}.bias`)) k.addRow(y, await f.vector(`${p}${n}.bias`), width, e);
  };
  for (let e = 0; e < h.nExpert; e++) {
    if (f.sparseExperts && !weights[e].some((v) => v > 0)) continue; // dense baseline: x += 0 · expert_e
    const ff: [number, number] = [e * h.nFF, (e + 1) * h.nFF];
    await f.matmul(a.g, `${p}ffn_gate_exps.weight`, a.xn, { rows: ff }); //    g [T, n_ff]
    await addBias(a.g, 'ffn_gate_exps', h.nFF, e);
    await f.matmul(a.u, `${p}ffn_up_exps.weight`, a.xn, { rows: ff }); //      u [T, n_ff]
    await addBias(a.u, 'ffn_up_exps', h.nFF, e);
    k.glu(a.h, a.g, a.u, h.nFF, act); //                                      h = act(g) ⊙ u
    await f.matmul(a.ffo, `${p}ffn_down_exps.weight`, a.h, { rows: [e * h.nEmbd, (e + 1) * h.nEmbd] });
    await addBias(a.ffo, 'ffn_down_exps', h.nEmbd, e);
    k.addScaled(a.x, a.ffo, f.tokenWeights(e, weights[e]), h.nEmbd); //     x += w_e ⊙ expert_e
  }
  const n = o.nFFShared ?? 0;
  if (n > 0) {
    await f.matmul(a.g, `${p}ffn_gate_shexp.weight`, a.xn); //                 shared expert, always used
    await f.matmul(a.u, `${p}ffn_up_shexp.weight`, a.xn);
    k.glu(a.h, a.g, a.u, n, act);
    if (has('ffn_gate_inp_shexp.weight')) {
      await f.matmul(a.ffo, `${p}ffn_down_shexp.weight`, a.h); //                 o = shexp(xn)
      await f.matmul(a.router, `${p}ffn_gate_inp_shexp.weight`, a.xn); //         gate [T, 1] (router logits are read already)
      k.addScaled(a.x, a.ffo, a.router, h.nEmbd, { sigmoid: true }); //           x += sigmoid(gate) ⊙ o
    } else {
      await f.matmul(a.x, `${p}ffn_down_shexp.weight`, a.h, { accumulate: true }); // x += shexp(xn)
    }
  }
}

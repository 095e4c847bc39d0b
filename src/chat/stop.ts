/**
 * Finds OpenAI `stop` strings in streamed text, even when one is split across tokens: text that could
 * still be the start of a stop string is held back until it is decided. Nothing from a stop string
 * on is emitted.
 */
export class StopMatcher {
  private pending = '';
  stopped = false;

  constructor(private readonly stops: string[]) {}

  /** Length of the longest end of `text` that begins some stop string (it may still complete). */
  private partial(text: string): number {
    let keep = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, text.length); k > keep; k--) {
        if (text.endsWith(s.slice(0, k))) {
          keep = k;
          break;
        }
      }
    }
    return keep;
  }

  /** Adds generated text; returns what can be shown now. Sets `stopped` once a stop string appears. */
  push(text: string): string {
    if (this.stopped) return '';
    this.pending += text;
    let cut = -1;
    for (const s of this.stops) {
      const i = this.pending.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      const out = this.pending.slice(0, cut);
      this.pending = '';
      return out;
    }
    const keep = this.partial(this.pending);
    const out = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return out;
  }

  /** The held-back text when generation ends without a stop string. */
  flush(): string {
    const out = this.stopped ? '' : this.pending;
    this.pending = '';
    return out;
  }
}

/**
 * The work queue both merge loops (SentencePiece and BPE) pop from: a binary heap of candidate merges of two
 * neighbouring symbols, ordered by a priority and then by position (leftmost first), as llama.cpp orders them.
 * Candidates live in parallel typed arrays (no object per candidate): a 100 KB prompt queues ~10^5 of them.
 */
export class MergeQueue {
  private left = new Int32Array(1024);
  private right = new Int32Array(1024);
  private size = new Int32Array(1024);
  private priority = new Float64Array(1024);
  private n = 0;

  get length(): number {
    return this.n;
  }

  clear(): void {
    this.n = 0;
  }

  private grow(): void {
    const cap = this.left.length * 2;
    const l = new Int32Array(cap), r = new Int32Array(cap), s = new Int32Array(cap), p = new Float64Array(cap);
    l.set(this.left), r.set(this.right), s.set(this.size), p.set(this.priority);
    this.left = l, this.right = r, this.size = s, this.priority = p;
  }

  private before(i: number, j: number): boolean {
    const pi = this.priority[i], pj = this.priority[j];
    return pi < pj || (pi === pj && this.left[i] < this.left[j]);
  }

  private swap(i: number, j: number): void {
    let t = this.left[i]; this.left[i] = this.left[j]; this.left[j] = t;
    t = this.right[i]; this.right[i] = this.right[j]; this.right[j] = t;
    t = this.size[i]; this.size[i] = this.size[j]; this.size[j] = t;
    const p = this.priority[i]; this.priority[i] = this.priority[j]; this.priority[j] = p;
  }

  /** Queues merging `left` with `right`; `size` is their combined length now (a later mismatch means stale). */
  push(left: number, right: number, priority: number, size: number): void {
    if (this.n === this.left.length) this.grow();
    let i = this.n++;
    this.left[i] = left; this.right[i] = right; this.priority[i] = priority; this.size[i] = size;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Pops the best candidate into `out` ([left, right, size]); false when empty. */
  pop(out: Int32Array): boolean {
    if (this.n === 0) return false;
    out[0] = this.left[0]; out[1] = this.right[0]; out[2] = this.size[0];
    const last = --this.n;
    if (last > 0) {
      this.left[0] = this.left[last]; this.right[0] = this.right[last]; this.size[0] = this.size[last]; this.priority[0] = this.priority[last];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let best = i;
        if (l < last && this.before(l, best)) best = l;
        if (r < last && this.before(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return true;
  }
}

/**
 * The work queue both merge loops (SentencePiece and BPE) pop from: a binary heap of candidate merges of two
 * neighbouring symbols, ordered by a priority and then by position (leftmost first), as llama.cpp orders them.
 */
export interface MergeCandidate {
  left: number;
  right: number;
  /** Lower pops first (BPE: the merge rank; SPM: minus the token score). */
  priority: number;
  /** Combined length when queued: a stale candidate (a side grew since) is skipped. */
  size: number;
}

export class MergeQueue {
  private readonly heap: MergeCandidate[] = [];

  get length(): number {
    return this.heap.length;
  }

  private before(a: MergeCandidate, b: MergeCandidate): boolean {
    return a.priority < b.priority || (a.priority === b.priority && a.left < b.left);
  }

  push(c: MergeCandidate): void {
    const h = this.heap;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  pop(): MergeCandidate | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < h.length && this.before(h[l], h[best])) best = l;
        if (r < h.length && this.before(h[r], h[best])) best = r;
        if (best === i) break;
        [h[i], h[best]] = [h[best], h[i]];
        i = best;
      }
    }
    return top;
  }
}

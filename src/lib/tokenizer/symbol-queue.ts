/**
 * The merge loop SentencePiece and BPE share (`mergeSymbols`) and its work queue: a binary heap of candidate merges
 * of two neighbouring symbols, ordered by a priority and then by position (leftmost first), as llama.cpp orders them.
 * The two models differ only in the priority of a pair (SPM: the negated score of the token the pair spells; BPE:
 * the rank of the pair's merge), which the caller supplies. Candidates live in parallel typed arrays (no object per
 * candidate): a 100 KB prompt queues ~10^5 of them.
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

/**
 * Symbols as a linked list over parallel arrays: symbol i spans `len[i]` UTF-16 units of the caller's text from
 * `start[i]`; a merged-away symbol has length 0. `prev`/`next` are -1 at the ends.
 */
export interface SymbolChain {
  readonly start: Int32Array;
  readonly len: Int32Array;
  readonly prev: Int32Array;
  readonly next: Int32Array;
}

/** A chain with room for `capacity` symbols. */
export function symbolChain(capacity: number): SymbolChain {
  return { start: new Int32Array(capacity), len: new Int32Array(capacity), prev: new Int32Array(capacity), next: new Int32Array(capacity) };
}

/**
 * Priority of merging symbol `left` with its right neighbour `right` (lower merges first), or undefined when the
 * pair does not merge. Called with the symbols as they are at that moment.
 */
export type MergePriority = (left: number, right: number) => number | undefined;

/** Popped candidates land here; the loop is synchronous and never re-entered, so one buffer serves every call. */
const popped = new Int32Array(3);

/**
 * Links symbols 0..n-1 (whose `start`/`len` the caller filled) and merges neighbouring pairs, best priority first
 * (leftmost on ties), until no pair merges. Afterwards the chain from symbol 0 along `next` holds the final pieces.
 */
export function mergeSymbols(chain: SymbolChain, n: number, queue: MergeQueue, priorityOf: MergePriority): void {
  const { len, prev, next } = chain;
  for (let i = 0; i < n; i++) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  queue.clear();
  const consider = (left: number, right: number): void => {
    if (left < 0 || right < 0) return;
    const priority = priorityOf(left, right);
    if (priority !== undefined) queue.push(left, right, priority, len[left] + len[right]);
  };
  for (let i = 1; i < n; i++) consider(i - 1, i);
  while (queue.pop(popped)) {
    const left = popped[0], right = popped[1];
    // Stale: one side was merged away, or grew, since this candidate was queued.
    if (len[left] === 0 || len[right] === 0 || len[left] + len[right] !== popped[2]) continue;
    len[left] += len[right];
    len[right] = 0;
    next[left] = next[right];
    if (next[right] >= 0) prev[next[right]] = left;
    consider(prev[left], left);
    consider(left, next[left]);
  }
}

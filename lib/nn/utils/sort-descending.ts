// The permutation torch.sort(lengths, descending=True) returns on the CPU.
//
// PyTorch 1.13 sorts on the CPU with std::sort (libstdc++'s introsort), which
// is not stable: among equal lengths the order of the sorted indices is
// whatever introsort leaves. pack_padded_sequence(enforce_sorted=False) stores
// those indices (sorted_indices) and packs the batch in that order, so to give
// the same PackedSequence as PyTorch this file replays libstdc++'s algorithm
// step for step (introsort loop with median-of-three pivots, heapsort when the
// depth limit runs out, final insertion sort over blocks of 16), on
// (value, index) pairs compared by value only.

const THRESHOLD = 16;

/** Sorts `keys` (and `idx` with them) in place, like std::sort with comp(a, b) = a > b. */
class IntroSort {
  constructor(private readonly keys: number[], private readonly idx: number[]) {}

  private before(i: number, j: number): boolean {
    return this.keys[i] > this.keys[j];
  }

  private swap(i: number, j: number): void {
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
    const x = this.idx[i];
    this.idx[i] = this.idx[j];
    this.idx[j] = x;
  }

  private set(to: number, from: number): void {
    this.keys[to] = this.keys[from];
    this.idx[to] = this.idx[from];
  }

  /** std::sort; depthLimit is std::__lg(n) * 2 there (tests lower it to reach the heapsort). */
  sort(depthLimit = 2 * Math.floor(Math.log2(this.keys.length))): void {
    const n = this.keys.length;
    if (n < 2) return;
    this.introsortLoop(0, n, depthLimit);
    this.finalInsertionSort(0, n);
  }

  private introsortLoop(first: number, last: number, depthLimit: number): void {
    while (last - first > THRESHOLD) {
      if (depthLimit === 0) {
        this.heapSort(first, last);
        return;
      }
      depthLimit -= 1;
      const cut = this.partitionPivot(first, last);
      this.introsortLoop(cut, last, depthLimit);
      last = cut;
    }
  }

  private partitionPivot(first: number, last: number): number {
    const mid = first + Math.floor((last - first) / 2);
    this.moveMedianToFirst(first, first + 1, mid, last - 1);
    return this.unguardedPartition(first + 1, last, first);
  }

  private moveMedianToFirst(result: number, a: number, b: number, c: number): void {
    if (this.before(a, b)) {
      if (this.before(b, c)) this.swap(result, b);
      else if (this.before(a, c)) this.swap(result, c);
      else this.swap(result, a);
    } else if (this.before(a, c)) this.swap(result, a);
    else if (this.before(b, c)) this.swap(result, c);
    else this.swap(result, b);
  }

  private unguardedPartition(first: number, last: number, pivot: number): number {
    for (;;) {
      while (this.before(first, pivot)) first += 1;
      last -= 1;
      while (this.before(pivot, last)) last -= 1;
      if (!(first < last)) return first;
      this.swap(first, last);
      first += 1;
    }
  }

  private finalInsertionSort(first: number, last: number): void {
    if (last - first > THRESHOLD) {
      this.insertionSort(first, first + THRESHOLD);
      for (let i = first + THRESHOLD; i < last; ++i) this.unguardedLinearInsert(i);
    } else {
      this.insertionSort(first, last);
    }
  }

  private insertionSort(first: number, last: number): void {
    if (first === last) return;
    for (let i = first + 1; i < last; ++i) {
      if (this.before(i, first)) {
        const k = this.keys[i];
        const x = this.idx[i];
        for (let j = i; j > first; --j) this.set(j, j - 1);
        this.keys[first] = k;
        this.idx[first] = x;
      } else {
        this.unguardedLinearInsert(i);
      }
    }
  }

  private unguardedLinearInsert(last: number): void {
    const k = this.keys[last];
    const x = this.idx[last];
    let next = last - 1;
    while (k > this.keys[next]) {
      this.set(last, next);
      last = next;
      next -= 1;
    }
    this.keys[last] = k;
    this.idx[last] = x;
  }

  // std::partial_sort(first, last, last): make_heap then sort_heap.
  private heapSort(first: number, last: number): void {
    const len = last - first;
    if (len >= 2) {
      for (let parent = Math.floor((len - 2) / 2); ; parent -= 1) {
        this.adjustHeap(first, parent, len, this.keys[first + parent], this.idx[first + parent]);
        if (parent === 0) break;
      }
    }
    while (last - first > 1) {
      last -= 1;
      const k = this.keys[last];
      const x = this.idx[last];
      this.set(last, first);
      this.adjustHeap(first, 0, last - first, k, x);
    }
  }

  private adjustHeap(first: number, hole: number, len: number, key: number, index: number): void {
    const top = hole;
    let child = hole;
    while (child < Math.floor((len - 1) / 2)) {
      child = 2 * (child + 1);
      if (this.before(first + child, first + child - 1)) child -= 1;
      this.set(first + hole, first + child);
      hole = child;
    }
    if ((len & 1) === 0 && child === Math.floor((len - 2) / 2)) {
      child = 2 * (child + 1);
      this.set(first + hole, first + child - 1);
      hole = child - 1;
    }
    // __push_heap: comp(*(first + parent), value) is parent > value.
    let parent = Math.floor((hole - 1) / 2);
    while (hole > top && this.keys[first + parent] > key) {
      this.set(first + hole, first + parent);
      hole = parent;
      parent = Math.floor((hole - 1) / 2);
    }
    this.keys[first + hole] = key;
    this.idx[first + hole] = index;
  }
}

/**
 * The indices that sort `values` in decreasing order, exactly as
 * torch.sort(torch.tensor(values), descending=True).indices on the CPU.
 */
export function sortDescending(values: readonly number[], depthLimit?: number): { sorted: number[]; indices: number[] } {
  const keys = values.slice();
  const indices = values.map((_, i) => i);
  new IntroSort(keys, indices).sort(depthLimit);
  return { sorted: keys, indices };
}

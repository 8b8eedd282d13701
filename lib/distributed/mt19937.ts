// A private mt19937 (the 32-bit Mersenne Twister) seeded as PyTorch's CPU
// generator seeds it (at::mt19937: init_genrand with the seed's low 32 bits),
// so that DistributedSampler reproduces torch.randperm(n, generator=g) with
// g.manual_seed(seed + epoch) without touching the process-wide generator.
export class Mt19937 {
  private readonly state = new Uint32Array(624);
  private index = 624;

  constructor(seed: number) {
    const s = this.state;
    s[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = s[i - 1] ^ (s[i - 1] >>> 30);
      // 1812433253 * prev + i, modulo 2^32, without losing bits to doubles.
      s[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  /** The next 32-bit output (at::mt19937::operator(), CPUGeneratorImpl::random()). */
  next(): number {
    const s = this.state;
    if (this.index >= 624) {
      for (let i = 0; i < 624; i++) {
        const y = (s[i] & 0x80000000) | (s[(i + 1) % 624] & 0x7fffffff);
        s[i] = s[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = s[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/**
 * torch.randperm(n, generator) on the CPU (aten randperm_cpu): the identity,
 * then for i in [0, n-1): swap i with i + random() % (n - i). PyTorch uses the
 * 32-bit random() for n < 2^32 / 20, which is every n an array here can hold.
 */
export function randperm(n: number, seed: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  const g = new Mt19937(seed);
  for (let i = 0; i < n - 1; i++) {
    const z = g.next() % (n - i);
    const t = out[i];
    out[i] = out[z + i];
    out[z + i] = t;
  }
  return out;
}

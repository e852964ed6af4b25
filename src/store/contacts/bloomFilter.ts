/**
 * A Bloom filter over 64-bit digests (two 32-bit halves, combined by double hashing): "certainly not
 * present" or "maybe present". Used as the compact in-memory snapshot of a large list; a "maybe" is
 * confirmed against the table with a point read, so a false positive costs a read, never a wrong answer.
 */
export class BloomFilter {
  private readonly bits: Uint32Array;
  private readonly size: number;
  private readonly hashes: number;
  /** Digests added, including those added after the filter was sized. */
  count = 0;

  /** Sized for `capacity` entries at about `falsePositiveRate` (never smaller than 1,024 bits). */
  constructor(capacity: number, falsePositiveRate = 0.001) {
    const n = Math.max(1, capacity);
    const m = Math.max(1024, Math.ceil((-n * Math.log(falsePositiveRate)) / (Math.LN2 * Math.LN2)));
    this.size = Math.ceil(m / 32) * 32;
    this.bits = new Uint32Array(this.size / 32);
    this.hashes = Math.max(1, Math.round((this.size / n) * Math.LN2));
  }

  /** Bytes the filter holds. */
  get bytes(): number {
    return this.bits.byteLength;
  }

  add(h1: number, h2: number): void {
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + Math.imul(i, h2 | 1)) >>> 0;
      const at = bit % this.size;
      this.bits[at >>> 5] = (this.bits[at >>> 5] ?? 0) | (1 << (at & 31));
    }
    this.count++;
  }

  mayContain(h1: number, h2: number): boolean {
    for (let i = 0; i < this.hashes; i++) {
      const at = ((h1 + Math.imul(i, h2 | 1)) >>> 0) % this.size;
      if (((this.bits[at >>> 5] ?? 0) & (1 << (at & 31))) === 0) return false;
    }
    return true;
  }
}

/** The two 32-bit halves of the first 16 hex characters of a hex digest. */
export function digestHalves(hex: string): [number, number] {
  return [parseInt(hex.slice(0, 8), 16) >>> 0, parseInt(hex.slice(8, 16), 16) >>> 0];
}

/**
 * Bloom filters that grow as entries arrive: each layer holds twice the previous one at half its
 * false-positive rate, so the total rate stays under twice the first layer's and a list can be streamed
 * in without knowing its size (no digest is held while it is read).
 */
export class GrowingBloomFilter {
  private readonly layers: { filter: BloomFilter; capacity: number }[] = [];

  constructor(
    private readonly firstCapacity = 65_536,
    private readonly falsePositiveRate = 0.001,
  ) {
    this.layers.push({ filter: new BloomFilter(firstCapacity, falsePositiveRate), capacity: firstCapacity });
  }

  get count(): number {
    return this.layers.reduce((n, l) => n + l.filter.count, 0);
  }

  get bytes(): number {
    return this.layers.reduce((n, l) => n + l.filter.bytes, 0);
  }

  add(h1: number, h2: number): void {
    let last = this.layers[this.layers.length - 1] as { filter: BloomFilter; capacity: number };
    if (last.filter.count >= last.capacity) {
      const capacity = last.capacity * 2;
      last = { filter: new BloomFilter(capacity, this.falsePositiveRate / 2 ** this.layers.length), capacity };
      this.layers.push(last);
    }
    last.filter.add(h1, h2);
  }

  mayContain(h1: number, h2: number): boolean {
    return this.layers.some((l) => l.filter.mayContain(h1, h2));
  }

  /** The capacity of the first layer this filter would start with for a list of `entries`. */
  static firstCapacityFor(entries: number): number {
    return Math.max(65_536, 2 ** Math.ceil(Math.log2(Math.max(1, entries) * 1.25)));
  }
}

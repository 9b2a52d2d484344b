/**
 * numpy's `np.random.default_rng(seed).choice(n, size, replace=False)`, bit for bit
 * (SeedSequence → PCG64 → Generator.choice; docs/PROTOCOL.md §3.1, checked against the numpy
 * 2.4 vectors of §7.1). A Python miner reproduces every sample assignment with one numpy call.
 */

const MASK32 = 0xffffffffn;
const MASK64 = 0xffffffffffffffffn;
const MASK128 = (1n << 128n) - 1n;
const PCG_MULT = 0x2360ed051fc65da44385df649fccf645n;

// SeedSequence constants (numpy/random/bit_generator.pyx)
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const POOL_SIZE = 4;

const mul32 = (a: number, b: number) => Math.imul(a, b) >>> 0;
const xorshift = (v: number) => (v ^ (v >>> 16)) >>> 0;

/** The 32-bit words of a non-negative integer seed, least significant first ([0] for 0). */
function seedWords(seed: bigint): number[] {
  if (seed < 0n) throw new RangeError("seed must be non-negative");
  const words: number[] = [];
  let s = seed;
  do {
    words.push(Number(s & MASK32));
    s >>= 32n;
  } while (s > 0n);
  return words;
}

/** SeedSequence(seed).generate_state(n) as uint32 words. */
export function seedSequenceState(seed: number | bigint, words: number): Uint32Array {
  const entropy = seedWords(BigInt(seed));
  let hashConst = INIT_A;
  const hashmix = (value: number) => {
    let v = (value ^ hashConst) >>> 0;
    hashConst = mul32(hashConst, MULT_A);
    v = mul32(v, hashConst);
    return xorshift(v);
  };
  const mix = (x: number, y: number) => xorshift((mul32(MIX_MULT_L, x) - mul32(MIX_MULT_R, y)) >>> 0);
  const pool = new Uint32Array(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i++) pool[i] = hashmix(i < entropy.length ? (entropy[i] as number) : 0);
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++)
      if (src !== dst) pool[dst] = mix(pool[dst] as number, hashmix(pool[src] as number));
  }
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) pool[dst] = mix(pool[dst] as number, hashmix(entropy[src] as number));
  }
  const out = new Uint32Array(words);
  let hc = INIT_B;
  for (let i = 0; i < words; i++) {
    let v = ((pool[i % POOL_SIZE] as number) ^ hc) >>> 0;
    hc = mul32(hc, MULT_B);
    v = mul32(v, hc);
    out[i] = xorshift(v);
  }
  return out;
}

/** numpy's PCG64 bit generator, seeded as `default_rng(seed)` seeds it. */
export class Pcg64 {
  #state = 0n;
  readonly #inc: bigint;
  #buffered: number | undefined;

  constructor(seed: number | bigint) {
    const w = seedSequenceState(seed, 8);
    const u64 = (i: number) => (BigInt(w[2 * i + 1] as number) << 32n) | BigInt(w[2 * i] as number);
    const initstate = (u64(0) << 64n) | u64(1);
    const initseq = (u64(2) << 64n) | u64(3);
    this.#inc = ((initseq << 1n) | 1n) & MASK128;
    this.#step();
    this.#state = (this.#state + initstate) & MASK128;
    this.#step();
  }

  #step(): void {
    this.#state = (this.#state * PCG_MULT + this.#inc) & MASK128;
  }

  /** The next 64-bit output (XSL-RR of the stepped state). */
  next64(): bigint {
    this.#step();
    const xored = ((this.#state >> 64n) ^ this.#state) & MASK64;
    const rot = this.#state >> 122n;
    return ((xored >> rot) | (xored << ((64n - rot) & 63n))) & MASK64;
  }

  /** The next 32-bit output: the low half of a fresh 64-bit one, the high half buffered for the next call. */
  next32(): number {
    if (this.#buffered !== undefined) {
      const v = this.#buffered;
      this.#buffered = undefined;
      return v;
    }
    const v = this.next64();
    this.#buffered = Number(v >> 32n);
    return Number(v & MASK32);
  }

  /** A uniform integer in [0, max] (max < 2³²), by Lemire's method as numpy's random_bounded_uint64. */
  bounded(max: number): number {
    if (max === 0) return 0;
    if (max === 0xffffffff) return this.next32();
    const excl = max + 1;
    let m = BigInt(this.next32()) * BigInt(excl);
    let leftover = Number(m & MASK32);
    if (leftover < excl) {
      const threshold = (0xffffffff - max) % excl;
      while (leftover < threshold) {
        m = BigInt(this.next32()) * BigInt(excl);
        leftover = Number(m & MASK32);
      }
    }
    return Number(m >> 32n);
  }
}

/** Shuffles data[first..n) from the end, as numpy's _shuffle_int. */
function shuffleTail(rng: Pcg64, data: number[] | Int32Array, n: number, first: number): void {
  for (let i = n - 1; i >= first; i--) {
    const j = rng.bounded(i);
    const t = data[j] as number;
    data[j] = data[i] as number;
    data[i] = t;
  }
}

/** `np.random.default_rng(seed).choice(pop, size, replace=False)`: `size` distinct integers below `pop`. */
export function choiceWithoutReplacement(seed: number | bigint, pop: number, size: number): number[] {
  if (!Number.isSafeInteger(pop) || !Number.isSafeInteger(size) || size < 0 || size > pop || pop > 0xffffffff) {
    throw new RangeError(`cannot choose ${size} of ${pop} without replacement`);
  }
  const rng = new Pcg64(seed);
  if (pop > 10_000 && size > Math.floor(pop / 50)) {
    const idx = new Int32Array(pop);
    for (let i = 0; i < pop; i++) idx[i] = i;
    shuffleTail(rng, idx, pop, Math.max(pop - size, 1));
    return Array.from(idx.subarray(pop - size));
  }
  // Floyd's algorithm over an open-addressing set, then a shuffle of the result.
  let mask = Math.floor(1.2 * size);
  for (let s = 1; s <= 16; s <<= 1) mask |= mask >>> s;
  const empty = -1;
  const set = new Float64Array(mask + 1).fill(empty);
  const out: number[] = new Array(size);
  for (let j = pop - size; j < pop; j++) {
    const v = rng.bounded(j);
    let loc = v & mask;
    while (set[loc] !== empty && set[loc] !== v) loc = (loc + 1) & mask;
    if (set[loc] === empty) {
      set[loc] = v;
      out[j - pop + size] = v;
    } else {
      loc = j & mask;
      while (set[loc] !== empty) loc = (loc + 1) & mask;
      set[loc] = j;
      out[j - pop + size] = j;
    }
  }
  shuffleTail(rng, out, size, 1);
  return out;
}

/** Templar's per-(uid, window) seed: (uid · 1_000_003 ^ window) & 0xFFFFFFFF, in Python's integer arithmetic. */
export function windowSeed(uid: number, window: number): number {
  return Number(((BigInt(uid) * 1_000_003n) ^ BigInt(window)) & MASK32);
}

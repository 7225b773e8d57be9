/**
 * Reproducible byte stream for benchmark fixtures.
 *
 * The stream is the ChaCha20 keystream (node:crypto) under key SHA-256("scanpay/bench/seed" ‖ seed)
 * with an all-zero IV, so the same seed always yields the same records on every machine and
 * Node version. It exists to make fixtures deterministic; it is not a source of real secrets.
 */
import { type Cipheriv, createCipheriv, createHash } from 'node:crypto';

const SEED_DOMAIN = 'scanpay/bench/seed';
const CHUNK = 4096; // keystream bytes produced per cipher call

export class SeededBytes {
  readonly #keystream: Cipheriv;
  #chunk = new Uint8Array(0);
  #offset = 0;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
      throw new RangeError(`seed must be a u32, got ${seed}`);
    }
    const seedBytes = Buffer.alloc(4);
    seedBytes.writeUInt32BE(seed);
    const key = createHash('sha256').update(SEED_DOMAIN).update(seedBytes).digest();
    this.#keystream = createCipheriv('chacha20', key, Buffer.alloc(16));
  }

  /** The next n bytes of the stream, as a fresh Uint8Array. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n; ) {
      if (this.#offset === this.#chunk.length) {
        this.#chunk = new Uint8Array(this.#keystream.update(Buffer.alloc(CHUNK)));
        this.#offset = 0;
      }
      const take = Math.min(n - filled, this.#chunk.length - this.#offset);
      out.set(this.#chunk.subarray(this.#offset, this.#offset + take), filled);
      this.#offset += take;
      filled += take;
    }
    return out;
  }

  /** A uniform integer in [0, 10), by rejection sampling bytes >= 250. */
  digit(): number {
    for (;;) {
      const byte = this.bytes(1)[0]!;
      if (byte < 250) return byte % 10;
    }
  }
}

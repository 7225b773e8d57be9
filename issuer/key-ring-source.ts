/**
 * Where the threads that hold issuer keys (the gateway's crypto workers, or the baseline's main thread) get
 * the key ring, and how a rotation reaches them without a restart. A file source is read by each holder
 * itself; `reload()` reads and checks the file, then bumps a generation counter in shared memory, and each
 * holder reads the file again before its next batch. An inline ring (generated in memory, or the JSON of
 * SCANPAY_KEYRING) is fixed for the life of the process.
 * @example
 *   const keys = KeyRingSource.file('/etc/scanpay/keyring.json');
 *   new CryptoPool({ keys, batch });   // workers load it
 *   await keys.reload();               // after `scanpay keys rotate`: new work uses the new ring
 */
import { readFileSync } from 'node:fs';
import { ScanpayError } from '../core/errors.ts';
import { IssuerKeyRing } from './key-ring.ts';

/** What a worker is given once, in its workerData: where the ring is, and the shared generation counter. */
export type WorkerKeys = ({ file: string } | { json: string }) & { generation: Int32Array };

export function readKeyRing(keys: { file: string } | { json: string }): IssuerKeyRing {
  if ('json' in keys) return IssuerKeyRing.parse(keys.json);
  let text: string;
  try {
    text = readFileSync(keys.file, 'utf8');
  } catch (e) {
    throw new ScanpayError('KEYRING_INVALID', `cannot read key ring file ${keys.file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return IssuerKeyRing.parse(text);
}

/** The generation a holder should have loaded: it changes on every successful reload. */
export function keyGeneration(keys: WorkerKeys): number {
  return Atomics.load(keys.generation, 0);
}

export class KeyRingSource {
  readonly #where: { file: string } | { json: string };
  readonly #generation = new Int32Array(new SharedArrayBuffer(4));

  private constructor(where: { file: string } | { json: string }) {
    this.#where = where;
  }

  /** Reloadable: every holder reads the file. */
  static file(path: string): KeyRingSource {
    return new KeyRingSource({ file: path });
  }

  /** Fixed: the ring as it is now, for the life of the process (a later change to `ring` is not seen). */
  static inline(ring: IssuerKeyRing): KeyRingSource {
    return new KeyRingSource({ json: ring.serialize() });
  }

  get reloadable(): boolean {
    return 'file' in this.#where;
  }

  get description(): string {
    return 'file' in this.#where ? `key ring file ${this.#where.file}` : 'inline key ring (fixed until restart)';
  }

  /** The ring now (throws KEYRING_INVALID if the file cannot be read or parsed). */
  read(): IssuerKeyRing {
    return readKeyRing(this.#where);
  }

  /** For a worker's workerData; the counter is shared, not copied. */
  workerKeys(): WorkerKeys {
    return { ...this.#where, generation: this.#generation };
  }

  get generation(): number {
    return Atomics.load(this.#generation, 0);
  }

  /**
   * Reads and checks the file; only a valid ring is announced to the holders (a bad file keeps the old
   * ring everywhere and throws KEYRING_INVALID). Returns the ring's key ids and states.
   */
  reload(): IssuerKeyRing {
    if (!('file' in this.#where)) throw new ScanpayError('KEYRING_INVALID', 'the key ring was given inline: set SCANPAY_KEYRING_FILE to rotate keys without a restart');
    const ring = readKeyRing(this.#where);
    Atomics.add(this.#generation, 0, 1);
    return ring;
  }
}

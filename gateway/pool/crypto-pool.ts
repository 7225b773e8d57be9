/**
 * The crypto worker pool: piscina threads (one per core by default), each with its own WASM core.
 * Single scans and PIN checks are gathered into batches (gateway/pool/batcher.ts) and each batch is one
 * piscina task, so the ~50–100 µs round trip is shared by every record in it.
 * @example
 *   const pool = new CryptoPool({ threads: 2, batch: { maxItems: 64, windowMs: 1 } });
 *   const [opened] = await pool.open([{ kek, ...payload.fields }]);
 * A worker that dies mid-batch (piscina replaces it) costs that batch one more run on another worker: the
 * crypto has no side effects, so running a batch twice is safe. Queues are bounded (maxQueued): past the
 * bound a request is refused with PoolBusyError, which the scanner hub answers with BUSY.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { DVD1_RECORD_SIZE, decodeDvd1Opened, decodeDvd1Results, encodeDvd1OpenInput, encodeDvd1Record } from '../../core/dvd1-layout.ts';
import type { Dvd1OpenInput, Dvd1Opened, Dvd1Record, Dvd1Result } from '../../core/types.ts';
import { Batcher } from './batcher.ts';
export { PoolBusyError } from './batcher.ts';
import { OUTPUT_SIZE, type PoolTask, type PoolTaskKind, type PoolTaskResult } from './tasks.ts';

export interface CryptoPoolOptions {
  threads?: number; // default: availableParallelism()
  batch: { maxItems: number; windowMs: number };
  onBatch?: (kind: PoolTaskKind, size: number) => void;
  /** Requests of each kind that may wait for a batch; past it a request fails at once with PoolBusyError. */
  maxQueued?: number;
  /** A worker failed outside a task, or a batch failed and was run again (logged and counted, never a crash). */
  onError?: (where: 'worker' | 'batch-retried', e: Error) => void;
}

/** Default bound of each kind's queue: a few full batches per worker; beyond that the scanner is told BUSY. */
export const DEFAULT_MAX_QUEUED = 4_096;

/** What the flow needs from a crypto engine: the pool here, or the inline baseline (gateway/baseline.ts). */
export interface CryptoEngine {
  open(input: Dvd1OpenInput): Promise<Dvd1Opened>;
  dvd1(record: Dvd1Record): Promise<Dvd1Result>;
  readonly queueDepth: number;
  /** Can take work now (for /readyz). */
  readonly ready: boolean;
  close(): Promise<void>;
}

// Compiled (dist/, the package) the worker is plain JavaScript; from the .ts sources (tsx, vitest) it
// loads TypeScript through tsx as the main thread does. tsx is a dev dependency, so resolve it only then.
const COMPILED = import.meta.url.endsWith('.js');
const WORKER = fileURLToPath(new URL(COMPILED ? './worker.js' : './worker.ts', import.meta.url));
const WORKER_EXEC_ARGV = COMPILED ? [] : ['--import', import.meta.resolve('tsx')];

export class CryptoPool implements CryptoEngine {
  readonly #piscina: Piscina;
  readonly #opens: Batcher<Dvd1OpenInput, Dvd1Opened>;
  readonly #dvd1s: Batcher<Dvd1Record, Dvd1Result>;
  readonly #onError: CryptoPoolOptions['onError'];
  #closed = false;

  constructor(opts: CryptoPoolOptions) {
    const threads = opts.threads ?? availableParallelism();
    this.#piscina = new Piscina({ filename: WORKER, minThreads: threads, maxThreads: threads, execArgv: WORKER_EXEC_ARGV });
    this.#onError = opts.onError;
    // without a listener, an error piscina emits (a worker failing with no task on it) would end the process
    this.#piscina.on('error', (e: Error) => this.#onError?.('worker', e));
    // each kind may keep every worker busy; piscina queues the rest, so batches grow while workers are busy
    const batch = { ...opts.batch, maxConcurrent: threads, maxWaiting: opts.maxQueued ?? DEFAULT_MAX_QUEUED };
    this.#opens = new Batcher((inputs) => this.#runOpen(inputs), { ...batch, onFlush: (n) => opts.onBatch?.('open', n) });
    this.#dvd1s = new Batcher((records) => this.#runDvd1(records), { ...batch, onFlush: (n) => opts.onBatch?.('dvd1', n) });
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  get ready(): boolean {
    return !this.#closed && this.#piscina.threads.length > 0;
  }

  /** Requests waiting for, or inside, a batch. */
  get queueDepth(): number {
    return this.#opens.depth + this.#dvd1s.depth;
  }

  open(input: Dvd1OpenInput): Promise<Dvd1Opened> {
    return this.#opens.submit(input);
  }

  dvd1(record: Dvd1Record): Promise<Dvd1Result> {
    return this.#dvd1s.submit(record);
  }

  /**
   * Fault injection (npm run chaos, test/chaos): ends one worker thread the way a crash would, batch and all;
   * piscina starts a replacement. Resolves false when no worker is running.
   */
  async terminateWorker(): Promise<boolean> {
    const worker = this.#piscina.threads[0];
    if (!worker) return false;
    await worker.terminate();
    return true;
  }

  /** One batch as a piscina task; if it fails (its worker died), once more on another worker. */
  async #run<I>(kind: PoolTaskKind, items: I[], encode: (item: I, target: Uint8Array, offset: number) => void): Promise<Uint8Array> {
    try {
      return await this.#runOnce(kind, items, encode);
    } catch (e) {
      if (this.#closed) throw e;
      this.#onError?.('batch-retried', e as Error);
      return this.#runOnce(kind, items, encode);
    }
  }

  async #runOnce<I>(kind: PoolTaskKind, items: I[], encode: (item: I, target: Uint8Array, offset: number) => void): Promise<Uint8Array> {
    const packed = new Uint8Array(items.length * DVD1_RECORD_SIZE);
    try {
      items.forEach((item, i) => encode(item, packed, i * DVD1_RECORD_SIZE));
    } catch (e) {
      packed.fill(0);
      throw e;
    }
    const task: PoolTask = { kind, packed: packed.buffer, count: items.length };
    // piscina's TransferList type is inferred from an overloaded postMessage and comes out unusable; an array is what it takes.
    const transferList = [packed.buffer] as unknown as Parameters<Piscina['run']>[1] extends { transferList?: infer T } ? T : never;
    const result: PoolTaskResult = await this.#piscina.run(task, { transferList });
    return new Uint8Array(result);
  }

  async #runOpen(inputs: Dvd1OpenInput[]): Promise<Dvd1Opened[]> {
    const result = await this.#run('open', inputs, encodeDvd1OpenInput);
    const outputs = inputs.length * OUTPUT_SIZE.open;
    try {
      return decodeDvd1Opened(result.subarray(0, outputs), result.subarray(outputs));
    } finally {
      result.fill(0);
    }
  }

  async #runDvd1(records: Dvd1Record[]): Promise<Dvd1Result[]> {
    const result = await this.#run('dvd1', records, encodeDvd1Record);
    const outputs = records.length * OUTPUT_SIZE.dvd1;
    return decodeDvd1Results(result.subarray(0, outputs), result.subarray(outputs));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#piscina.close();
  }
}

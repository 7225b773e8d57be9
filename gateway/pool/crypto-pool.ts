/**
 * The crypto worker pool: piscina threads (one per core by default), each with its own WASM core and its
 * own copy of the issuer key ring (KeyRingSource: loaded once, reloaded on rotation). Scans and PIN checks
 * are gathered into batches (gateway/pool/batcher.ts) and each batch is one piscina task carrying
 * ciphertexts and rows at rest, already written into DVD-1 records (tasks.ts, issuer/card-batch.ts), so the
 * ~50–100 µs round trip is shared by every record in it and no issuer key, clear basic key or clear PAN is
 * on this thread.
 * @example
 *   const pool = new CryptoPool({ keys: KeyRingSource.file(path), threads: 2, batch: { maxItems: 64, windowMs: 1 } });
 *   const opening = await pool.openCard(payloadBytes);
 * A worker that dies mid-batch (piscina replaces it) costs that batch another run on another worker (up to two): the
 * crypto has no side effects, so running a batch twice is safe. Queues are bounded (maxQueued): past the
 * bound a request is refused with PoolBusyError, which the scanner hub answers with BUSY.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type {
  CardEngine, CardOpening, CodeCheck, CodeChecked, EnrolmentCheck, EnrolmentChecked, PinCheck, PinChecked,
} from '../../issuer/card-engine.ts';
import type { KeyRingSource } from '../../issuer/key-ring-source.ts';
import { Batcher } from './batcher.ts';
import { isScanpayError } from '../../core/errors.ts';
export { PoolBusyError } from './batcher.ts';
import {
  decodeCodeAnswer, decodeEnrolmentAnswer, decodeOpenAnswer, decodePinAnswer, encodeCodeRequest, encodeEnrolmentRequest, encodeOpenRequest,
  encodePinRequest,
} from '../../issuer/card-batch.ts';
import { REQUEST_SIZE, packTask, type PoolTaskKind, type PoolTaskResult, type ReceiptTask } from './tasks.ts';
import type { ReceiptChainRequest, SignedReceipt } from '../../issuer/receipt-signing.ts';

export interface CryptoPoolOptions {
  keys: KeyRingSource; // the issuer key ring the workers load (and reload)
  threads?: number; // default: availableParallelism()
  batch: { maxItems: number; windowMs: number };
  /** The metric's labels: payload opening (S22), DVD-1 (S25), wallet enrolment, one-time code. */
  onBatch?: (kind: 'open' | 'dvd1' | 'enrol' | 'code', size: number) => void;
  /** Requests of each kind that may wait for a batch; past it a request fails at once with PoolBusyError. */
  maxQueued?: number;
  /** A worker failed outside a task, or a batch failed and was run again (logged and counted, never a crash). */
  onError?: (where: 'worker' | 'batch-retried', e: Error) => void;
}

/** Default bound of each kind's queue: a few full batches per worker; beyond that the scanner is told BUSY. */
export const DEFAULT_MAX_QUEUED = 4_096;

/** Runs of a failed batch on another worker: the crypto has no side effects, and a replacement may die too. */
const BATCH_RETRIES = 2;

/** What the flow needs from a crypto engine (issuer/card-engine.ts): the pool here, or the inline baseline. */
export type CryptoEngine = CardEngine;

// Compiled (dist/, the package) the worker is plain JavaScript; from the .ts sources (tsx, vitest) it
// loads TypeScript through tsx as the main thread does. tsx is a dev dependency, so resolve it only then.
const COMPILED = import.meta.url.endsWith('.js');
const WORKER = fileURLToPath(new URL(COMPILED ? './worker.js' : './worker.ts', import.meta.url));
const WORKER_EXEC_ARGV = COMPILED ? [] : ['--import', import.meta.resolve('tsx')];

export class CryptoPool implements CardEngine {
  readonly #piscina: Piscina;
  readonly #keys: KeyRingSource;
  readonly #opens: Batcher<Uint8Array, CardOpening>; // items: encoded requests (tasks.ts)
  readonly #pins: Batcher<Uint8Array, PinChecked>;
  readonly #enrolments: Batcher<Uint8Array, EnrolmentChecked>;
  readonly #codes: Batcher<Uint8Array, CodeChecked>;
  readonly #onError: CryptoPoolOptions['onError'];
  #closed = false;

  constructor(opts: CryptoPoolOptions) {
    const threads = opts.threads ?? availableParallelism();
    this.#keys = opts.keys;
    this.#piscina = new Piscina({
      filename: WORKER, minThreads: threads, maxThreads: threads, execArgv: WORKER_EXEC_ARGV,
      workerData: { keys: opts.keys.workerKeys() }, // once per worker, never per request
    });
    this.#onError = opts.onError;
    // without a listener, an error piscina emits (a worker failing with no task on it) would end the process
    this.#piscina.on('error', (e: Error) => this.#onError?.('worker', e));
    // each kind may keep every worker busy; piscina queues the rest, so batches grow while workers are busy
    const batch = { ...opts.batch, maxConcurrent: threads, maxWaiting: opts.maxQueued ?? DEFAULT_MAX_QUEUED };
    this.#opens = new Batcher((requests) => this.#run('open', requests, decodeOpenAnswer), { ...batch, onFlush: (n) => opts.onBatch?.('open', n) });
    this.#pins = new Batcher((requests) => this.#run('pin', requests, decodePinAnswer), { ...batch, onFlush: (n) => opts.onBatch?.('dvd1', n) });
    this.#enrolments = new Batcher((requests) => this.#run('enrol', requests, decodeEnrolmentAnswer), { ...batch, onFlush: (n) => opts.onBatch?.('enrol', n) });
    this.#codes = new Batcher((requests) => this.#run('code', requests, decodeCodeAnswer), { ...batch, onFlush: (n) => opts.onBatch?.('code', n) });
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  get ready(): boolean {
    return !this.#closed && this.#piscina.threads.length > 0;
  }

  /** Requests waiting for, or inside, a batch. */
  get queueDepth(): number {
    return this.#opens.depth + this.#pins.depth + this.#enrolments.depth + this.#codes.depth;
  }

  // Each request is encoded once, as it arrives, straight into its DVD-1 record (issuer/card-batch.ts), so a
  // bad one fails alone, not the batch it would have joined.
  openCard(payload: Uint8Array): Promise<CardOpening> {
    return this.#submit(this.#opens, 'open', payload, encodeOpenRequest);
  }

  checkPin(check: PinCheck): Promise<PinChecked> {
    return this.#submit(this.#pins, 'pin', check, encodePinRequest);
  }

  /** A wallet enrolment: a PIN check batched with others, with the wallet key and wrapped PAN when it passes. */
  checkEnrolment(check: EnrolmentCheck): Promise<EnrolmentChecked> {
    return this.#submit(this.#enrolments, 'enrol', check, encodeEnrolmentRequest);
  }

  /** A one-time code, batched with others into one DVD-1 code-record task. */
  checkCode(check: CodeCheck): Promise<CodeChecked> {
    return this.#submit(this.#codes, 'code', check, encodeCodeRequest);
  }

  /**
   * One piscina task per chain segment (a signer sends one per round, so there is nothing to batch); run again
   * on another worker if its worker dies, like a batch: signing has no side effects (Ed25519 is deterministic).
   */
  async signReceipts(request: ReceiptChainRequest): Promise<SignedReceipt[]> {
    const task: ReceiptTask = { kind: 'receipts', request };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#piscina.run(task) as SignedReceipt[];
      } catch (e) {
        if (this.#closed || attempt >= BATCH_RETRIES || isScanpayError(e)) throw e;
        this.#onError?.('batch-retried', e as Error);
      }
    }
  }

  #submit<I, O>(batcher: Batcher<Uint8Array, O>, kind: PoolTaskKind, item: I, encode: (item: I, request: Uint8Array) => void): Promise<O> {
    const request = new Uint8Array(REQUEST_SIZE[kind]);
    try {
      encode(item, request);
    } catch (e) {
      request.fill(0);
      return Promise.reject(e);
    }
    return batcher.submit(request);
  }

  /** Checks the key ring file and has every worker load it before its next batch. */
  async reloadKeys(): Promise<void> {
    this.#keys.reload();
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

  /** One batch as a piscina task; if it fails (its worker died), again on another worker, up to BATCH_RETRIES times. */
  async #run<O>(kind: PoolTaskKind, requests: Uint8Array[], decode: (answers: Uint8Array, i: number) => O): Promise<O[]> {
    let answers: Uint8Array | undefined;
    try {
      for (let attempt = 0; !answers; attempt++) {
        try {
          answers = await this.#runOnce(kind, requests);
        } catch (e) {
          if (this.#closed || attempt >= BATCH_RETRIES) throw e;
          this.#onError?.('batch-retried', e as Error);
        }
      }
    } finally {
      for (const request of requests) request.fill(0);
    }
    try {
      return requests.map((_, i) => decode(answers, i));
    } finally {
      answers.fill(0);
    }
  }

  /** The batch's requests as one buffer (tasks.ts), transferred to the worker; its answers come back the same way. */
  async #runOnce(kind: PoolTaskKind, requests: Uint8Array[]): Promise<Uint8Array> {
    const task = packTask(kind, requests);
    // piscina's TransferList type is inferred from an overloaded postMessage and comes out unusable; an array is what it takes.
    const transferList = [task.packed] as unknown as Parameters<Piscina['run']>[1] extends { transferList?: infer T } ? T : never;
    const result: PoolTaskResult = await this.#piscina.run(task, { transferList });
    return new Uint8Array(result);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#piscina.close();
  }
}

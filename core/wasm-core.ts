/**
 * Typed wrapper over the scanpay WebAssembly core. Engine-neutral (no Node APIs): give it the module's
 * bytes and it works the same in Node, browsers and other runtimes.
 *
 * It owns the module's memory above heapBase(): each call lays its inputs out there, runs one export,
 * copies the outputs into fresh arrays and zeroes everything it used, so no key, plaintext or PIN
 * outlives the call in linear memory.
 * @example
 *   const core = instantiateCoreSync(wasmBytes);
 *   const digest = core.sha256(new TextEncoder().encode('abc'));
 */
import { ScanpayError } from './errors.ts';
import { MAX_INPUT, abytes, aint, align16 } from './bytes.ts';
import {
  DVD1_CRYPTOGRAM_SIZE, DVD1_ENROLLED_SIZE, DVD1_ENROLMENT_ID_SIZE, DVD1_OPENED_SIZE, DVD1_RECORD_SIZE, checkDvd1Layout, decodeDvd1Opened,
  decodeDvd1Results, packDvd1CodeRecords, packDvd1OpenInputs, packDvd1Records,
} from './dvd1-layout.ts';
import type {
  CryptoCore, Dvd1CodeRecord, Dvd1OpenInput, Dvd1Opened, Dvd1PackedEnrolled, Dvd1PackedOpened, Dvd1PackedResult, Dvd1Record, Dvd1Result,
} from './types.ts';

export type { Dvd1PackedEnrolled, Dvd1PackedOpened, Dvd1PackedResult } from './dvd1-layout.ts';

export const HKDF_MAX_LENGTH = 255 * 32;
export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;
/** The module ABI this wrapper speaks (docs/abi.md); a module reporting another abiVersion() is refused. */
export const CORE_ABI_VERSION = 1;
/** Records per WASM call: bounds the memory a batch can make the module hold. */
export const DVD1_MAX_RECORDS_PER_CALL = 4096;
const TAG = 16;
const EMPTY = new Uint8Array(0);
const PAGE = 65536;

interface CoreExports {
  memory: WebAssembly.Memory;
  abiVersion?(): number; // optional here so that a module from before abiVersion is refused with a clear message
  simdLanes(): number;
  selftest(): number;
  heapBase(): number;
  sha256(msg: number, len: number, out: number): void;
  sha512(msg: number, len: number, out: number): void;
  ed25519Verify(pub: number, sig: number, msg: number, msgLen: number): number;
  hmacSha256(key: number, keyLen: number, msg: number, msgLen: number, out: number): void;
  hkdfExtract(salt: number, saltLen: number, ikm: number, ikmLen: number, prk: number): void;
  hkdfExpand(prk: number, prkLen: number, info: number, infoLen: number, out: number, len: number): number;
  aeadSeal(key: number, nonce: number, aad: number, aadLen: number, pt: number, ptLen: number, out: number): void;
  aeadOpen(key: number, nonce: number, aad: number, aadLen: number, ct: number, ctLen: number, tag: number, out: number): number;
  ctEqual(a: number, b: number, len: number): number;
  luhn(digits: number, len: number): number;
  dvd1Batch(records: number, count: number, cryptograms: number, statuses: number): number;
  dvd1OpenBatch(records: number, count: number, opened: number, statuses: number): number;
  dvd1CodeBatch(records: number, count: number, cryptograms: number, statuses: number): number;
  dvd1EnrolBatch(records: number, enrolmentIds: number, count: number, enrolled: number, statuses: number): number;
}

/** Lays out byte arrays one after another from a base address, 16-byte aligned. */
class Layout {
  next: number;
  constructor(readonly base: number) {
    this.next = base;
  }
  take(length: number): number {
    const at = this.next;
    this.next = align16(at + length);
    return at;
  }
}

export class WasmCryptoCore implements CryptoCore {
  readonly #exports: CoreExports;
  readonly #heapBase: number;
  #heap: Uint8Array;
  #inCall = false;
  /** The module's abiVersion() (equal to CORE_ABI_VERSION, or the constructor threw). */
  readonly abiVersion: number;
  /** 4 for the SIMD build, 1 for the scalar build (same outputs). */
  readonly simdLanes: number;

  constructor(instance: WebAssembly.Instance) {
    this.#exports = instance.exports as unknown as CoreExports;
    const abi = typeof this.#exports.abiVersion === 'function' ? this.#exports.abiVersion() : 'none';
    if (abi !== CORE_ABI_VERSION) {
      throw new ScanpayError('CORE_LOAD_FAILED', `the module's ABI version is ${abi}; this wrapper speaks ${CORE_ABI_VERSION} (docs/abi.md)`);
    }
    this.abiVersion = abi;
    checkDvd1Layout(instance.exports);
    this.simdLanes = this.#exports.simdLanes();
    this.#heapBase = this.#exports.heapBase();
    this.#heap = new Uint8Array(this.#exports.memory.buffer);
    if (this.#exports.selftest() !== 0) throw new ScanpayError('CORE_SELFTEST_FAILED');
  }

  /** Grows memory to hold `bytes` from heapBase, runs `body`, then zeroes what it used. */
  #call<T>(bytes: number, body: (heap: Uint8Array, layout: Layout) => T): T {
    // The DVD-1 object API reads record fields (possibly getters) while its call holds the memory: a call
    // from inside it would lay its inputs over the batch's and wipe them, so it is refused.
    if (this.#inCall) throw new ScanpayError('BAD_ARGUMENT', 'the core was called from inside one of its own calls (a getter on an input?)');
    const end = this.#heapBase + bytes;
    const memory = this.#exports.memory;
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
    if (this.#heap.buffer !== memory.buffer) this.#heap = new Uint8Array(memory.buffer);
    this.#inCall = true;
    try {
      return body(this.#heap, new Layout(this.#heapBase));
    } finally {
      this.#heap.fill(0, this.#heapBase, end);
      this.#inCall = false;
    }
  }

  #put(heap: Uint8Array, layout: Layout, bytes: Uint8Array): number {
    const at = layout.take(bytes.length);
    heap.set(bytes, at);
    return at;
  }

  selftest(): number {
    return this.#exports.selftest();
  }

  sha256(msg: Uint8Array): Uint8Array {
    abytes(msg, 'msg');
    return this.#call(align16(msg.length) + 32, (heap, layout) => {
      const m = this.#put(heap, layout, msg);
      const out = layout.take(32);
      this.#exports.sha256(m, msg.length, out);
      return heap.slice(out, out + 32);
    });
  }

  sha512(msg: Uint8Array): Uint8Array {
    abytes(msg, 'msg');
    return this.#call(align16(msg.length) + 64, (heap, layout) => {
      const m = this.#put(heap, layout, msg);
      const out = layout.take(64);
      this.#exports.sha512(m, msg.length, out);
      return heap.slice(out, out + 64);
    });
  }

  ed25519Verify(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): boolean {
    abytes(publicKey, 'publicKey', ED25519_PUBLIC_KEY_LENGTH);
    abytes(signature, 'signature', ED25519_SIGNATURE_LENGTH);
    abytes(message, 'message');
    return this.#call(ED25519_PUBLIC_KEY_LENGTH + ED25519_SIGNATURE_LENGTH + align16(message.length), (heap, layout) => {
      const pub = this.#put(heap, layout, publicKey);
      const sig = this.#put(heap, layout, signature);
      const msg = this.#put(heap, layout, message);
      return this.#exports.ed25519Verify(pub, sig, msg, message.length) === 1;
    });
  }

  hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array {
    abytes(key, 'key');
    abytes(msg, 'msg');
    return this.#call(align16(key.length) + align16(msg.length) + 32, (heap, layout) => {
      const k = this.#put(heap, layout, key);
      const m = this.#put(heap, layout, msg);
      const out = layout.take(32);
      this.#exports.hmacSha256(k, key.length, m, msg.length, out);
      return heap.slice(out, out + 32);
    });
  }

  hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
    abytes(salt, 'salt');
    abytes(ikm, 'ikm');
    return this.#call(align16(salt.length) + align16(ikm.length) + 32, (heap, layout) => {
      const s = this.#put(heap, layout, salt);
      const i = this.#put(heap, layout, ikm);
      const prk = layout.take(32);
      this.#exports.hkdfExtract(s, salt.length, i, ikm.length, prk);
      return heap.slice(prk, prk + 32);
    });
  }

  hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    abytes(prk, 'prk');
    abytes(info, 'info');
    if (typeof length === 'number' && Number.isInteger(length) && length > HKDF_MAX_LENGTH) {
      throw new ScanpayError('HKDF_LENGTH', `asked for ${length} bytes`);
    }
    aint(length, 'length', 0, HKDF_MAX_LENGTH);
    return this.#call(align16(prk.length) + align16(info.length) + length, (heap, layout) => {
      const p = this.#put(heap, layout, prk);
      const i = this.#put(heap, layout, info);
      const out = layout.take(length);
      this.#exports.hkdfExpand(p, prk.length, i, info.length, out, length);
      return heap.slice(out, out + length);
    });
  }

  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    const prk = this.hkdfExtract(salt, ikm);
    try {
      return this.hkdfExpand(prk, info, length);
    } finally {
      prk.fill(0);
    }
  }

  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    abytes(key, 'key', 32);
    abytes(nonce, 'nonce', 12);
    abytes(plaintext, 'plaintext');
    abytes(aad, 'aad');
    return this.#call(32 + 16 + align16(aad.length) + 2 * align16(plaintext.length + TAG), (heap, layout) => {
      const k = this.#put(heap, layout, key);
      const n = this.#put(heap, layout, nonce);
      const a = this.#put(heap, layout, aad);
      const p = this.#put(heap, layout, plaintext);
      const out = layout.take(plaintext.length + TAG);
      this.#exports.aeadSeal(k, n, a, aad.length, p, plaintext.length, out);
      return heap.slice(out, out + plaintext.length + TAG);
    });
  }

  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    abytes(key, 'key', 32);
    abytes(nonce, 'nonce', 12);
    abytes(sealed, 'sealed', undefined, MAX_INPUT + TAG); // the ciphertext inside obeys MAX_INPUT
    abytes(aad, 'aad');
    if (sealed.length < TAG) throw new ScanpayError('BAD_LENGTH', `sealed must hold a ${TAG}-byte tag, got ${sealed.length} bytes`);
    const ctLength = sealed.length - TAG;
    return this.#call(32 + 16 + align16(aad.length) + align16(sealed.length) + align16(ctLength), (heap, layout) => {
      const k = this.#put(heap, layout, key);
      const n = this.#put(heap, layout, nonce);
      const a = this.#put(heap, layout, aad);
      const c = this.#put(heap, layout, sealed);
      const out = layout.take(ctLength);
      if (this.#exports.aeadOpen(k, n, a, aad.length, c, ctLength, c + ctLength, out) !== 1) {
        throw new ScanpayError('AEAD_TAG_INVALID');
      }
      return heap.slice(out, out + ctLength);
    });
  }

  constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
    abytes(a, 'a');
    abytes(b, 'b');
    if (a.length !== b.length) return false; // lengths are public
    return this.#call(align16(a.length) * 2, (heap, layout) => {
      const pa = this.#put(heap, layout, a);
      const pb = this.#put(heap, layout, b);
      return this.#exports.ctEqual(pa, pb, a.length) === 1;
    });
  }

  luhn(digits: Uint8Array | string): boolean {
    let ascii: Uint8Array;
    if (typeof digits === 'string') {
      if (!/^[\x00-\x7f]*$/.test(digits)) return false;
      ascii = new TextEncoder().encode(digits);
    } else {
      ascii = abytes(digits, 'digits');
    }
    abytes(ascii, 'digits');
    return this.#call(align16(ascii.length), (heap, layout) => {
      const p = this.#put(heap, layout, ascii);
      return this.#exports.luhn(p, ascii.length) === 1;
    });
  }

  /**
   * Runs DVD-1 over records already packed in the documented layout (count × DVD1_RECORD_SIZE bytes).
   * The packed input is copied into WASM memory, where the core wipes it; the caller's copy is untouched.
   */
  dvd1BatchPacked(packed: Uint8Array, count: number): Dvd1PackedResult {
    const { outputs, statuses, passed } = this.#runPacked(packed, count, DVD1_CRYPTOGRAM_SIZE, this.#exports.dvd1Batch);
    return { cryptograms: outputs, statuses, passed };
  }

  /** DVD-1 over record objects: each is checked and packed straight into WASM memory (docs/core.md). */
  dvd1Batch(records: readonly Dvd1Record[]): Dvd1Result[] {
    return this.#runRecords(records, packDvd1Records, DVD1_CRYPTOGRAM_SIZE, this.#exports.dvd1Batch, decodeDvd1Results);
  }

  /** DVD-1 steps 1–2 over packed records: opened[i*48..] = PAN[16] ‖ basicKey[32] (zeros when status ≠ 0). */
  dvd1OpenBatchPacked(packed: Uint8Array, count: number): Dvd1PackedOpened {
    const { outputs, statuses, passed } = this.#runPacked(packed, count, DVD1_OPENED_SIZE, this.#exports.dvd1OpenBatch);
    return { opened: outputs, statuses, passed };
  }

  dvd1OpenBatch(inputs: readonly Dvd1OpenInput[]): Dvd1Opened[] {
    return this.#runRecords(inputs, packDvd1OpenInputs, DVD1_OPENED_SIZE, this.#exports.dvd1OpenBatch, decodeDvd1Opened);
  }

  /** Code records packed in the layout (count × DVD1_RECORD_SIZE bytes): cryptograms and statuses as dvd1BatchPacked. */
  dvd1CodeBatchPacked(packed: Uint8Array, count: number): Dvd1PackedResult {
    const { outputs, statuses, passed } = this.#runPacked(packed, count, DVD1_CRYPTOGRAM_SIZE, this.#exports.dvd1CodeBatch);
    return { cryptograms: outputs, statuses, passed };
  }

  /** Code records (docs/core.md §Code records): each checked and packed straight into WASM memory. */
  dvd1CodeBatch(records: readonly Dvd1CodeRecord[]): Dvd1Result[] {
    return this.#runRecords(records, packDvd1CodeRecords, DVD1_CRYPTOGRAM_SIZE, this.#exports.dvd1CodeBatch, decodeDvd1Results);
  }

  /**
   * Enrolment over packed PIN records and their enrolment ids (count × 16 bytes): enrolled[i*48..] = wallet key ‖ PAN
   * (zeros when status ≠ 0). The caller wipes `enrolled`; its own inputs are left as they are.
   */
  dvd1EnrolBatchPacked(packed: Uint8Array, enrolmentIds: Uint8Array, count: number): Dvd1PackedEnrolled {
    if (!(enrolmentIds instanceof Uint8Array)) throw new ScanpayError('BAD_ARGUMENT', 'enrolmentIds must be a Uint8Array');
    aint(count, 'count', 0, Number.MAX_SAFE_INTEGER);
    if (enrolmentIds.length !== count * DVD1_ENROLMENT_ID_SIZE) {
      throw new ScanpayError('BAD_LENGTH', `enrolmentIds must be ${count} × ${DVD1_ENROLMENT_ID_SIZE} bytes, got ${enrolmentIds.length}`);
    }
    const run = (records: number, n: number, outputs: number, statuses: number, ids: number): number =>
      this.#exports.dvd1EnrolBatch(records, ids, n, outputs, statuses);
    const { outputs, statuses, passed } = this.#runPacked(packed, count, DVD1_ENROLLED_SIZE, run, { bytes: enrolmentIds, perRecord: DVD1_ENROLMENT_ID_SIZE });
    return { enrolled: outputs, statuses, passed };
  }

  /**
   * Checks and packs items straight into WASM memory, DVD1_MAX_RECORDS_PER_CALL per call, runs a batch
   * export and decodes its outputs from memory; #call wipes the records and outputs. A bad item throws its
   * typed error before the export runs on its chunk, and the call returns nothing.
   */
  #runRecords<I, R>(
    items: readonly I[],
    pack: (items: readonly I[], first: number, count: number, target: Uint8Array, offset: number) => void,
    outputSize: number,
    run: (records: number, count: number, outputs: number, statuses: number) => number,
    decode: (outputs: Uint8Array, statuses: Uint8Array) => R[],
  ): R[] {
    if (!Array.isArray(items)) throw new ScanpayError('BAD_ARGUMENT', 'records must be an array');
    const count = items.length;
    if (count <= DVD1_MAX_RECORDS_PER_CALL) return this.#runChunk(items, 0, count, pack, outputSize, run, decode);
    const results: R[] = [];
    for (let first = 0; first < count; first += DVD1_MAX_RECORDS_PER_CALL) {
      const n = Math.min(DVD1_MAX_RECORDS_PER_CALL, count - first);
      for (const r of this.#runChunk(items, first, n, pack, outputSize, run, decode)) results.push(r);
    }
    return results;
  }

  #runChunk<I, R>(
    items: readonly I[],
    first: number,
    n: number,
    pack: (items: readonly I[], first: number, count: number, target: Uint8Array, offset: number) => void,
    outputSize: number,
    run: (records: number, count: number, outputs: number, statuses: number) => number,
    decode: (outputs: Uint8Array, statuses: Uint8Array) => R[],
  ): R[] {
    return this.#call(n * DVD1_RECORD_SIZE + align16(n * outputSize) + n, (heap, layout) => {
      const recs = layout.take(n * DVD1_RECORD_SIZE);
      pack(items, first, n, heap, recs);
      const out = layout.take(n * outputSize);
      const outS = layout.take(n);
      run(recs, n, out, outS);
      return decode(heap.subarray(out, out + n * outputSize), heap.subarray(outS, outS + n));
    });
  }

  /**
   * Feeds packed records to a batch export in chunks of DVD1_MAX_RECORDS_PER_CALL. `side`: a second input of
   * `perRecord` bytes per record (its length already checked), whose chunk goes into WASM memory too; the export
   * gets its address as the fifth argument.
   */
  #runPacked(
    packed: Uint8Array, count: number, outputSize: number,
    run: (records: number, count: number, outputs: number, statuses: number, side: number) => number,
    side: { bytes: Uint8Array; perRecord: number } = { bytes: EMPTY, perRecord: 0 },
  ) {
    if (!(packed instanceof Uint8Array)) throw new ScanpayError('BAD_ARGUMENT', 'packed must be a Uint8Array');
    aint(count, 'count', 0, Math.floor(packed.length / DVD1_RECORD_SIZE));
    if (packed.length !== count * DVD1_RECORD_SIZE) {
      throw new ScanpayError('BAD_LENGTH', `packed must be ${count} × ${DVD1_RECORD_SIZE} bytes, got ${packed.length}`);
    }
    const outputs = new Uint8Array(count * outputSize);
    const statuses = new Uint8Array(count);
    let passed = 0;
    for (let first = 0; first < count; first += DVD1_MAX_RECORDS_PER_CALL) {
      const n = Math.min(DVD1_MAX_RECORDS_PER_CALL, count - first);
      const chunk = packed.subarray(first * DVD1_RECORD_SIZE, (first + n) * DVD1_RECORD_SIZE);
      const sideChunk = side.bytes.subarray(first * side.perRecord, (first + n) * side.perRecord);
      passed += this.#call(chunk.length + align16(n * outputSize) + align16(n) + sideChunk.length, (heap, layout) => {
        const recs = this.#put(heap, layout, chunk);
        const out = layout.take(n * outputSize);
        const outS = layout.take(n);
        const sideAt = this.#put(heap, layout, sideChunk);
        const ok = run(recs, n, out, outS, sideAt);
        outputs.set(heap.subarray(out, out + n * outputSize), first * outputSize);
        statuses.set(heap.subarray(outS, outS + n), first);
        return ok;
      });
    }
    return { outputs, statuses, passed };
  }
}

function compile(bytes: Uint8Array): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new ScanpayError('CORE_LOAD_FAILED', (e as Error).message);
  }
}

/** The module needs no imports; `env.abort` is offered so a debug build also loads. */
const IMPORTS = {
  env: {
    abort(): never {
      throw new ScanpayError('CORE_LOAD_FAILED', 'the core aborted');
    },
  },
};

export function instantiateCoreSync(bytes: Uint8Array): WasmCryptoCore {
  if (!(bytes instanceof Uint8Array)) throw new ScanpayError('BAD_ARGUMENT', 'bytes must be a Uint8Array');
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(compile(bytes), IMPORTS);
  } catch (e) {
    if (e instanceof ScanpayError) throw e;
    throw new ScanpayError('CORE_LOAD_FAILED', (e as Error).message);
  }
  return new WasmCryptoCore(instance);
}

export async function instantiateCore(bytes: Uint8Array): Promise<WasmCryptoCore> {
  if (!(bytes instanceof Uint8Array)) throw new ScanpayError('BAD_ARGUMENT', 'bytes must be a Uint8Array');
  let instance: WebAssembly.Instance;
  try {
    const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    instance = await WebAssembly.instantiate(module, IMPORTS);
  } catch (e) {
    throw new ScanpayError('CORE_LOAD_FAILED', (e as Error).message);
  }
  return new WasmCryptoCore(instance);
}

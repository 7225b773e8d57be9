/**
 * One DVD-1 layout (assembly/dvd1-layout.ts, exported as globals; core/dvd1-layout.ts checks its copy
 * against them): both builds export it and load; a module whose layout differs in any global, lacks
 * one, or holds another label is refused with CORE_LOAD_FAILED. And the object API's packing straight
 * into WASM memory: a bad record anywhere in a batch throws its typed error, returns nothing and leaves
 * the caller's part of WASM memory zero; the next batch works. The codec's shared pieces (the payload span,
 * the amount writer, the record view) agree with the object API's packer, and core/ has no import cycle.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CORE_SCALAR_WASM_PATH, CORE_WASM_PATH, DVD1_FIELDS, DVD1_LABELS, DVD1_RECORD_SIZE, DVD1_STATUS, WasmCryptoCore,
  encodeDvd1Record, expectedDvd1Globals, isScanpayError,
} from '../../core/index.ts';
import { DVD1_AMOUNT, DVD1_PAYLOAD, viewDvd1Record, writeDvd1Amount } from '../../core/dvd1-layout.ts';
import { makeDvd1Records } from '../../bench/dvd1/records.ts';

const instantiate = (path: string): WebAssembly.Instance => new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), {});
const i32 = (value: number): WebAssembly.Global => new WebAssembly.Global({ value: 'i32', mutable: false }, value);

/** A stand-in instance: the real exports with some replaced (undefined: removed). */
function withExports(instance: WebAssembly.Instance, patch: Record<string, unknown>): WebAssembly.Instance {
  const exports: Record<string, unknown> = { ...instance.exports, ...patch };
  for (const [name, value] of Object.entries(patch)) if (value === undefined) delete exports[name];
  return { exports } as unknown as WebAssembly.Instance;
}

function loadError(instance: WebAssembly.Instance): string {
  try {
    new WasmCryptoCore(instance);
    return 'loaded';
  } catch (e) {
    return isScanpayError(e, 'CORE_LOAD_FAILED') ? e.message : `not CORE_LOAD_FAILED: ${String(e)}`;
  }
}

describe('the module exports the DVD-1 layout the wrapper uses', () => {
  it.each([
    ['SIMD', CORE_WASM_PATH],
    ['scalar', CORE_SCALAR_WASM_PATH],
  ])('%s build: every expected global, with the expected value; the labels in memory', (_build, path) => {
    const { exports } = instantiate(path);
    const globals = expectedDvd1Globals();
    expect(Object.keys(globals).length).toBeGreaterThan(30);
    for (const [name, want] of Object.entries(globals)) expect((exports[name] as WebAssembly.Global | undefined)?.value, name).toBe(want);
    const memory = new Uint8Array((exports.memory as WebAssembly.Memory).buffer);
    for (const [name, global] of [['pin', 'DVD1_LABEL_PIN'], ['txn', 'DVD1_LABEL_TXN']] as const) {
      const at = (exports[global] as WebAssembly.Global).value as number;
      expect(Buffer.from(memory.subarray(at, at + DVD1_LABELS[name].length)).toString('latin1')).toBe(DVD1_LABELS[name]);
    }
    expect(loadError(instantiate(path))).toBe('loaded');
  });

  it('the fields tile the record: in order, not overlapping, inside it', () => {
    const spans = [...Object.values(DVD1_FIELDS), [244, 8] as const].sort((a, b) => a[0] - b[0]);
    let end = 0;
    for (const [offset, length] of spans) {
      expect(offset).toBeGreaterThanOrEqual(end);
      end = offset + length;
    }
    expect(end).toBeLessThanOrEqual(DVD1_RECORD_SIZE);
  });
});

describe('a module with another layout is refused (CORE_LOAD_FAILED)', () => {
  const real = instantiate(CORE_WASM_PATH);

  it.each(Object.keys(expectedDvd1Globals()))('%s off by one', (name) => {
    const value = (real.exports[name] as WebAssembly.Global).value as number;
    expect(loadError(withExports(real, { [name]: i32(value + 1) }))).toContain(name);
  });

  it.each(['DVD1_PIN_OFFSET', 'DVD1_STATUS_PVV', 'DVD1_LABEL_TXN'])('%s missing', (name) => {
    expect(loadError(withExports(real, { [name]: undefined }))).toContain(name);
  });

  it('a label that is not "scanpay/v1/txn" (the txn global pointing at the pin label)', () => {
    const message = loadError(withExports(real, { DVD1_LABEL_TXN: real.exports.DVD1_LABEL_PIN }));
    expect(message).toContain('DVD1_LABEL_TXN');
    expect(message).toContain('scanpay/v1/pin');
  });

  it('a status bit exported as a number instead of a global', () => {
    expect(loadError(withExports(real, { DVD1_STATUS_LUHN: DVD1_STATUS.LUHN }))).toContain('DVD1_STATUS_LUHN');
  });
});

describe('object API: a bad record changes nothing', () => {
  const instance = instantiate(CORE_WASM_PATH);
  const core = new WasmCryptoCore(instance);
  const memory = instance.exports.memory as WebAssembly.Memory;
  const heapBase = (instance.exports.heapBase as () => number)();
  const callerMemoryIsZero = (): boolean => new Uint8Array(memory.buffer).subarray(heapBase).every((b) => b === 0);

  it.each([0, 5, 255])('a wrong-length pin in record %i of 256: BAD_LENGTH, nothing returned, memory wiped', (bad) => {
    const records = makeDvd1Records(256, { seed: 5 });
    const good = core.dvd1Batch(records);
    expect(good.every((r) => r.ok)).toBe(true);
    const broken = records.map((r, i) => (i === bad ? { ...r, pin: r.pin.subarray(0, 3) } : r));
    let returned: unknown;
    let code = 'returned';
    try {
      returned = core.dvd1Batch(broken);
    } catch (e) {
      code = isScanpayError(e) ? e.code : String(e);
    }
    expect(code).toBe('BAD_LENGTH');
    expect(returned).toBeUndefined();
    expect(callerMemoryIsZero()).toBe(true);
    expect(core.dvd1Batch(records).map((r) => Buffer.from(r.cryptogram).toString('hex'))).toEqual(good.map((r) => Buffer.from(r.cryptogram).toString('hex')));
    expect(callerMemoryIsZero()).toBe(true);
  });

  it('a record that is not an object, and an amount outside u64, in the middle of a batch', () => {
    const records = makeDvd1Records(9, { seed: 6 });
    expect(() => core.dvd1Batch([...records.slice(0, 4), null as never, ...records.slice(4)])).toThrow(/record must be an object/);
    expect(() => core.dvd1Batch(records.map((r, i) => (i === 7 ? { ...r, amount: 1n << 64n } : r)))).toThrow(/amount/);
    expect(() => core.dvd1OpenBatch(records.map((r, i) => (i === 2 ? { ...r, c2: 'x' as never } : r)))).toThrow(/c2 must be a Uint8Array/);
    expect(callerMemoryIsZero()).toBe(true);
  });

  it('a record whose getter calls the core again: refused (BAD_ARGUMENT), memory wiped, the core still works', () => {
    const records = makeDvd1Records(8, { seed: 7 });
    const sneaky = { ...records[3]! };
    Object.defineProperty(sneaky, 'sid', { get: () => (core.sha256(new Uint8Array(64)), records[3]!.sid), enumerable: true });
    expect(() => core.dvd1Batch(records.map((r, i) => (i === 3 ? sneaky : r)))).toThrow(/called from inside/);
    expect(callerMemoryIsZero()).toBe(true);
    expect(core.dvd1Batch(records).every((r) => r.ok)).toBe(true);
    expect(Buffer.from(core.sha256(new Uint8Array(0))).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it.each([0, 31, 32, 40, 99])('each field is read once, and what was checked is what is packed (getter on record %i of 100)', (at) => {
    const records = makeDvd1Records(100, { seed: 8 });
    const good = core.dvd1Batch(records).map((r) => Buffer.from(r.cryptogram).toString('hex'));
    const sid = records[at]!.sid;
    let reads = 0;
    const shifty = { ...records[at]! };
    // right the first time, the wrong length afterwards: a second read would throw or pack other bytes
    Object.defineProperty(shifty, 'sid', { get: () => (reads++ === 0 ? sid : new Uint8Array(3)), enumerable: true });
    const results = core.dvd1Batch(records.map((r, i) => (i === at ? shifty : r)));
    expect(reads).toBe(1);
    expect(results.map((r) => Buffer.from(r.cryptogram).toString('hex'))).toEqual(good);
    expect(callerMemoryIsZero()).toBe(true);
  });

  it('two bad records in one block: the first one\'s error, as record by record; memory wiped', () => {
    const records = makeDvd1Records(100, { seed: 9 });
    const broken = records.map((r, i) => (i === 70 ? { ...r, kek: r.kek.subarray(1) } : i === 75 ? { ...r, hdr: 'x' as never } : r));
    expect(() => core.dvd1Batch(broken)).toThrow(/kek must be 32 bytes/);
    expect(() => core.dvd1OpenBatch(broken)).toThrow(/kek must be 32 bytes/);
    expect(callerMemoryIsZero()).toBe(true);
  });
});

describe('one packer: the pieces the object API and the engine batch format share', () => {
  it('the payload fields have their slots side by side in payload order: one copy of 112 bytes', () => {
    const order = ['hdr', 'n1', 'c1', 'n2', 'c2'] as const;
    let at = DVD1_PAYLOAD[0];
    for (const name of order) {
      expect(DVD1_FIELDS[name][0], name).toBe(at);
      at += DVD1_FIELDS[name][1];
    }
    expect(at - DVD1_PAYLOAD[0]).toBe(DVD1_PAYLOAD[1]);
    expect(DVD1_PAYLOAD[1]).toBe(112);
  });

  it.each([0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER])('amount %d: the same u64 as a number or a bigint, and as encodeDvd1Record writes it', (amount) => {
    const [record] = makeDvd1Records(1, { seed: 11 });
    const packed = new Uint8Array(DVD1_RECORD_SIZE);
    encodeDvd1Record({ ...record!, amount: BigInt(amount) }, packed, 0);
    const fromNumber = new Uint8Array(DVD1_RECORD_SIZE);
    const fromBigint = new Uint8Array(DVD1_RECORD_SIZE);
    writeDvd1Amount(fromNumber, 0, amount);
    writeDvd1Amount(fromBigint, 0, BigInt(amount));
    const slot = (b: Uint8Array) => Buffer.from(b.subarray(DVD1_AMOUNT[0], DVD1_AMOUNT[0] + DVD1_AMOUNT[1])).toString('hex');
    expect(slot(fromNumber)).toBe(BigInt(amount).toString(16).padStart(16, '0'));
    expect(slot(fromBigint)).toBe(slot(fromNumber));
    expect(slot(packed)).toBe(slot(fromNumber));
  });

  it('viewDvd1Record reads back what encodeDvd1Record wrote, as views of the packed bytes', () => {
    const records = makeDvd1Records(5, { seed: 12 });
    const packed = new Uint8Array(records.length * DVD1_RECORD_SIZE);
    records.forEach((r, i) => encodeDvd1Record({ ...r, amount: r.amount ^ (1n << 63n) }, packed, i * DVD1_RECORD_SIZE));
    records.forEach((r, i) => {
      const view = viewDvd1Record(packed, i * DVD1_RECORD_SIZE);
      expect({ ...view, amount: view.amount ^ (1n << 63n) }).toEqual(r);
      expect(view.kek.buffer).toBe(packed.buffer);
    });
  });
});

describe('core/ imports no module that imports it back', () => {
  it('the import graph of core/*.ts has no cycle', () => {
    const dir = new URL('../../core/', import.meta.url);
    const imports = new Map<string, string[]>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      imports.set(file, [...source.matchAll(/(?:import|export)[^;]*?from '\.\/([\w.-]+\.ts)'/g)].map((m) => m[1]!));
    }
    expect(imports.get('types.ts')).toContain('dvd1-layout.ts');
    const cycles: string[] = [];
    const walk = (file: string, path: string[]): void => {
      if (path.includes(file)) {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      for (const next of imports.get(file) ?? []) walk(next, [...path, file]);
    };
    for (const file of imports.keys()) walk(file, []);
    expect(cycles).toEqual([]);
  });
});

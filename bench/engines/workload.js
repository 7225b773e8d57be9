// @ts-check
/**
 * The per-engine DVD-1 bench, in plain JavaScript so every JS engine runs the same file (Node, Deno,
 * Bun through test/engines/hosts/cli-host.js; Chromium and Firefox in the probe page). Times whole
 * batches through the scanpay/core wrapper (copy in, one WASM call, copy out: what an embedder pays) and
 * the libsodium.js DVD-1 anchor (bench/dvd1/libsodium.ts) on the same records, in µs per record.
 * Browsers coarsen performance.now(), so each measurement runs for at least `minMs`.
 */

/** @param {string} s */
function unhex(s) {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Records back from the packed layout, for the anchor (which takes objects).
 * @param {Uint8Array} packed @param {number} count @param {Record<string, [number, number]>} fields @param {number} amountAt
 */
function unpack(packed, count, fields, amountAt) {
  const records = [];
  for (let i = 0; i < count; i++) {
    const at = i * 256;
    /** @type {Record<string, unknown>} */
    const r = {};
    for (const [name, [offset, length]] of Object.entries(fields)) r[name] = packed.slice(at + offset, at + offset + length);
    r.amount = new DataView(packed.buffer, packed.byteOffset + at + amountAt, 8).getBigUint64(0, false);
    records.push(r);
  }
  return records;
}

/** µs per record of `fn` over `count` records, after a warm-up, for at least minMs. @param {() => void} fn @param {number} count @param {number} minMs */
function time(fn, count, minMs) {
  const warm = performance.now();
  while (performance.now() - warm < minMs / 4) fn();
  let rounds = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    fn();
    rounds++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return (elapsed * 1000) / (rounds * count);
}

/**
 * @param {{ records: string, batch: number, minMs: number, builds: ('simd'|'scalar')[], fields: Record<string, [number, number]>, amountOffset: number, anchor: string }} config
 * @param {{ coreOf: (build: 'simd'|'scalar') => Promise<any> }} host
 */
export async function benchEngine(config, host) {
  const packed = unhex(config.records);
  const { batch, minMs } = config;
  /** @type {Record<string, number>} */
  const core = {};
  let passed = 0;
  for (const build of config.builds) {
    const c = await host.coreOf(build);
    if (c.simdLanes !== (build === 'simd' ? 4 : 1)) throw new Error(`asked for the ${build} build, got ${c.simdLanes} lanes`);
    passed = c.dvd1BatchPacked(packed, batch).passed;
    core[build] = time(() => c.dvd1BatchPacked(packed, batch), batch, minMs);
  }
  let libsodium;
  if (config.anchor) {
    const anchor = await import(config.anchor);
    await anchor.init();
    const records = unpack(packed, batch, config.fields, config.amountOffset);
    const ok = anchor.run(records).filter((/** @type {{ ok: boolean }} */ r) => r.ok).length;
    if (ok !== passed) throw new Error(`libsodium anchor passed ${ok} records, the core ${passed}`);
    libsodium = time(() => anchor.run(records), batch, minMs);
  }
  return { core, libsodium, batch, passed };
}

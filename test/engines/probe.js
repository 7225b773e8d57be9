// @ts-check
/**
 * The conformance probe every JavaScript engine runs (Node, Deno, Bun, Chromium, Firefox): plain
 * JavaScript, no host APIs, so the same file runs everywhere. It reads jobs, one per line
 * (test/engines/jobs.ts writes them; test/engines/native/probe.c reads the same text), runs each on a
 * core from `scanpay/core` and answers one line per job, so engines can be compared byte for byte.
 *
 *   seal <key> <nonce> <aad> <msg>        → ct‖tag
 *   open <key> <nonce> <aad> <ct‖tag>     → ok <pt> | fail
 *   hmac <key> <msg>                      → mac
 *   hkdf <ikm> <salt> <info> <length>     → okm | error HKDF_LENGTH
 *   sha256 <msg>                          → digest
 *   sha512 <msg>                          → digest
 *   ed25519 <key> <sig> <msg>             → 1 | 0 | error BAD_LENGTH
 *   luhn <ascii>                          → 1 | 0
 *   dvd1 <count> <records>                → <passed> <cryptograms‖statuses>
 *   open1 <count> <records>               → <passed> <opened‖statuses>
 *   code <basicKey> <enrolmentId> <step> <counter> → <walletKey> <code> <text as ASCII hex>   (payload v2, oneTimeCode)
 *   vcode <count> <code records>          → <passed> <cryptograms‖statuses>
 *   enrol <count> <records> <ids>         → <passed> <enrolled‖statuses>
 * Byte strings are lower-case hex, "-" for empty. The first lines answer selftest, abiVersion and simdLanes.
 * `code` jobs need the `scanpay/core` module itself (deriveWalletKey, oneTimeCode): runJobs' third argument.
 */

/** @param {string} s */
function unhex(s) {
  if (s === '-') return new Uint8Array(0);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** @param {Uint8Array} b */
function hex(b) {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s === '' ? '-' : s;
}

/** @param {Uint8Array[]} parts */
function cat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * @param {import('../../core/wasm-core.ts').WasmCryptoCore} core
 * @param {string} line
 * @param {{ deriveWalletKey: Function, oneTimeCode: Function } | undefined} api
 */
function answer(core, line, api) {
  const [op, ...a] = line.split(' ');
  switch (op) {
    case 'seal':
      return hex(core.seal(unhex(a[0]), unhex(a[1]), unhex(a[3]), unhex(a[2])));
    case 'open':
      try {
        return `ok ${hex(core.open(unhex(a[0]), unhex(a[1]), unhex(a[3]), unhex(a[2])))}`;
      } catch (e) {
        if (/** @type {{ code?: string }} */ (e).code === 'AEAD_TAG_INVALID') return 'fail';
        throw e;
      }
    case 'hmac':
      return hex(core.hmacSha256(unhex(a[0]), unhex(a[1])));
    case 'hkdf':
      try {
        return hex(core.hkdf(unhex(a[0]), unhex(a[1]), unhex(a[2]), Number(a[3])));
      } catch (e) {
        if (/** @type {{ code?: string }} */ (e).code === 'HKDF_LENGTH') return 'error HKDF_LENGTH';
        throw e;
      }
    case 'sha256':
      return hex(core.sha256(unhex(a[0])));
    case 'sha512':
      return hex(core.sha512(unhex(a[0])));
    case 'ed25519':
      try {
        return core.ed25519Verify(unhex(a[0]), unhex(a[1]), unhex(a[2])) ? '1' : '0';
      } catch (e) {
        if (/** @type {{ code?: string }} */ (e).code === 'BAD_LENGTH') return 'error BAD_LENGTH';
        throw e;
      }
    case 'luhn':
      return core.luhn(unhex(a[0])) ? '1' : '0';
    case 'dvd1': {
      const r = core.dvd1BatchPacked(unhex(a[1]), Number(a[0]));
      return `${r.passed} ${hex(cat(r.cryptograms, r.statuses))}`;
    }
    case 'open1': {
      const r = core.dvd1OpenBatchPacked(unhex(a[1]), Number(a[0]));
      return `${r.passed} ${hex(cat(r.opened, r.statuses))}`;
    }
    case 'code': {
      if (!api) throw new Error('probe: code jobs need the scanpay/core module');
      const enrolmentId = unhex(a[1]);
      const walletKey = api.deriveWalletKey(core, unhex(a[0]), enrolmentId);
      const code = api.oneTimeCode(core, walletKey, { enrolmentId, step: Number(a[2]), counter: Number(a[3]) });
      return `${hex(walletKey)} ${hex(code.bytes)} ${hex(new TextEncoder().encode(code.text))}`;
    }
    case 'vcode': {
      const r = core.dvd1CodeBatchPacked(unhex(a[1]), Number(a[0]));
      return `${r.passed} ${hex(cat(r.cryptograms, r.statuses))}`;
    }
    case 'enrol': {
      const r = core.dvd1EnrolBatchPacked(unhex(a[1]), unhex(a[2]), Number(a[0]));
      return `${r.passed} ${hex(cat(r.enrolled, r.statuses))}`;
    }
    default:
      throw new Error(`probe: unknown job ${op}`);
  }
}

/**
 * @param {import('../../core/wasm-core.ts').WasmCryptoCore} core
 * @param {string} jobs
 * @param {{ deriveWalletKey: Function, oneTimeCode: Function }} [api] the `scanpay/core` module, for `code` jobs
 * @returns {string}
 */
export function runJobs(core, jobs, api) {
  const out = [`selftest ${core.selftest()}`, `abi ${core.abiVersion}`, `lanes ${core.simdLanes}`];
  for (const line of jobs.split('\n')) if (line.trim() !== '') out.push(answer(core, line.trim(), api));
  return `${out.join('\n')}\n`;
}

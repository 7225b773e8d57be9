/**
 * The issuer key ring: round trip through its file format, no key bytes in any printed form, strict parsing
 * (typed KEYRING_INVALID, message never echoing the secret text), owner-only atomic save, loading from the
 * environment or a file, and the key lifecycle (rotate → decrypt-only, retire → KEY_RETIRED).
 */
import { createPublicKey, sign, verify } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScanpayError } from '../../core/errors.ts';
import { IssuerKeyRing, KEYRING_FORMAT } from '../../issuer/key-ring.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanpay-keyring-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const key32 = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');

/** Every secret of a ring in every spelling a leak might use. */
function secretsOf(ring: IssuerKeyRing): string[] {
  const raw = [ring.storageKey, ...ring.list().filter((k) => k.state !== 'retired').map((k) => ring.keyForOpening(k.id))];
  const doc = JSON.parse(ring.serialize()) as { storageKey: string; issuerKeys: { key: string }[]; receiptKeys?: { seed: string }[] };
  const fromFile = [doc.storageKey, ...doc.issuerKeys.map((k) => k.key), ...(doc.receiptKeys ?? []).map((k) => k.seed)].map((s) => Buffer.from(s, 'base64url'));
  return [...raw, ...fromFile].flatMap((b) => [
    Buffer.from(b).toString('base64url'), Buffer.from(b).toString('base64'), Buffer.from(b).toString('hex'),
    Buffer.from(b).toString('base64url').slice(0, 16),
  ]);
}

function doc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: KEYRING_FORMAT,
    storageKey: key32(),
    issuerKeys: [{ id: 1, state: 'active', key: key32(), createdAt: '2025-01-01T00:00:00.000Z' }],
    ...overrides,
  };
}

function parseError(text: string): unknown {
  try {
    IssuerKeyRing.parse(text);
  } catch (e) {
    return e;
  }
  return null;
}

describe('IssuerKeyRing', () => {
  it('generate → serialize → parse round trips every key and state', () => {
    const ring = IssuerKeyRing.generate(new Date('2025-03-04T05:06:07.000Z'));
    expect(ring.list()).toEqual([{ id: 1, state: 'active', createdAt: '2025-03-04T05:06:07.000Z' }]);
    expect(ring.active().id).toBe(1);
    expect(ring.active().key).toHaveLength(32);
    expect(ring.storageKey).toHaveLength(32);
    ring.rotate();
    ring.rotate();
    ring.retire(1);
    const text = ring.serialize();
    const doc = JSON.parse(text);
    expect(doc.format).toBe(KEYRING_FORMAT);
    const back = IssuerKeyRing.parse(text);
    expect(back.serialize()).toBe(text);
    expect(back.list()).toEqual(ring.list());
    expect(b64u(back.storageKey)).toBe(b64u(ring.storageKey));
    expect(b64u(back.keyForOpening(2))).toBe(b64u(ring.keyForOpening(2)));
    expect(b64u(back.active().key)).toBe(b64u(ring.active().key));
    expect(back.list().map((k) => k.state)).toEqual(['retired', 'decrypt-only', 'active']);
    // two generated rings share nothing
    const other = IssuerKeyRing.generate();
    expect(b64u(other.storageKey)).not.toBe(b64u(ring.storageKey));
    expect(b64u(other.active().key)).not.toBe(b64u(IssuerKeyRing.generate().active().key));
  });

  it('toJSON, util.inspect, format and String never contain key bytes', () => {
    const ring = IssuerKeyRing.generate();
    ring.rotate();
    ring.rotateReceiptKey();
    const printed = [
      JSON.stringify(ring), JSON.stringify({ ring }), inspect(ring), inspect(ring, { showHidden: true, depth: Infinity, getters: true }),
      inspect({ nested: [ring] }, { depth: Infinity }), `${ring}`, String(ring), format('%o', ring), format('%O', ring), format('%j', ring),
      format('%s', ring), Object.keys(ring).join(','), JSON.stringify(Object.getOwnPropertyDescriptors(ring)),
    ];
    expect(JSON.parse(JSON.stringify(ring))).toEqual({ issuerKeys: ring.list(), receiptKeys: ring.receiptPublicKeys() });
    const secrets = secretsOf(ring);
    for (const text of printed) for (const secret of secrets) expect(text).not.toContain(secret);
    expect(inspect(ring)).toBe('IssuerKeyRing(1:decrypt-only, 2:active; receipts 1:verify-only, 2:active)');
  });

  it('receipt keys: one active; rotation keeps the old public keys; a ring without them derives key 1 from its storage key', () => {
    const ring = IssuerKeyRing.generate();
    const [first] = ring.receiptPublicKeys();
    expect(first).toMatchObject({ id: 1, state: 'active' });
    expect(ring.rotateReceiptKey()).toBe(2);
    expect(ring.receiptPublicKeys().map((k) => [k.id, k.state, k.publicKey])).toEqual([[1, 'verify-only', first!.publicKey], [2, 'active', expect.any(String)]]);
    const again = IssuerKeyRing.parse(ring.serialize());
    expect(again.receiptPublicKeys()).toEqual(ring.receiptPublicKeys());
    expect(again.receiptSigningKey().id).toBe(2);
    // a signature of the active key verifies under its published public key
    const message = new TextEncoder().encode('receipt');
    const signature = sign(null, message, again.receiptSigningKey().privateKey);
    const published = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: again.receiptPublicKeys()[1]!.publicKey }, format: 'jwk' });
    expect(verify(null, message, published, signature)).toBe(true);

    // written before receipts: no receiptKeys in the file, the same derived key 1 every time it is read
    const old = doc();
    const a = IssuerKeyRing.parse(JSON.stringify(old));
    const b = IssuerKeyRing.parse(JSON.stringify(old));
    expect(a.receiptPublicKeys()).toEqual(b.receiptPublicKeys());
    expect(a.receiptPublicKeys()).toMatchObject([{ id: 1, state: 'active' }]);
    expect(JSON.parse(a.serialize())).not.toHaveProperty('receiptKeys'); // the file as it was
    a.rotateReceiptKey();
    const written = JSON.parse(a.serialize()) as { receiptKeys: { id: number; state: string }[] };
    expect(written.receiptKeys.map((k) => [k.id, k.state])).toEqual([[1, 'verify-only'], [2, 'active']]);
    expect(IssuerKeyRing.parse(a.serialize()).receiptPublicKeys()[0]!.publicKey).toBe(b.receiptPublicKeys()[0]!.publicKey);

    const seed = key32();
    const receiptKey = (over: Record<string, unknown>) => [{ id: 1, state: 'active', seed, createdAt: '2025-01-01T00:00:00.000Z', ...over }];
    for (const bad of [[], receiptKey({ state: 'verify-only' }), [...receiptKey({}), ...receiptKey({ id: 2 })], receiptKey({ id: 0 }), receiptKey({ seed: seed.slice(1) }), receiptKey({ state: 'retired' })]) {
      let thrown: unknown;
      try {
        IssuerKeyRing.parse(JSON.stringify({ ...doc(), receiptKeys: bad }));
      } catch (e) {
        thrown = e;
      }
      expect(isScanpayError(thrown, 'KEYRING_INVALID'), JSON.stringify(bad)).toBe(true);
      expect((thrown as Error).message).not.toContain(seed);
    }
  });

  it('parse rejects bad documents with KEYRING_INVALID, never echoing the text', () => {
    const good = doc();
    const secret = (good.issuerKeys as { key: string }[])[0].key;
    const storage = good.storageKey as string;
    const key = (over: Record<string, unknown>) => [{ id: 1, state: 'active', key: secret, createdAt: '2025-01-01T00:00:00.000Z', ...over }];
    const cases: Record<string, string> = {
      'bad JSON (truncated)': JSON.stringify(good).slice(0, -5),
      'bad JSON (trailing)': `${JSON.stringify(good)} ${secret}`,
      'bad JSON (single quotes)': `{'storageKey': '${storage}', 'key': '${secret}'}`,
      'empty text': '',
      'null': 'null',
      'a number': '42',
      'a string': JSON.stringify(secret),
      'an array': JSON.stringify([good]),
      'no format': JSON.stringify({ ...good, format: undefined }),
      'wrong format': JSON.stringify({ ...good, format: 'scanpay-keyring/v2' }),
      'no issuer keys': JSON.stringify({ ...good, issuerKeys: [] }),
      'issuerKeys not an array': JSON.stringify({ ...good, issuerKeys: { 1: key({})[0] } }),
      'issuer key null': JSON.stringify({ ...good, issuerKeys: [null] }),
      'zero active keys': JSON.stringify({ ...good, issuerKeys: key({ state: 'decrypt-only' }) }),
      'two active keys': JSON.stringify({ ...good, issuerKeys: [...key({}), ...key({ id: 2, key: key32() })] }),
      'duplicate ids': JSON.stringify({ ...good, issuerKeys: [...key({}), ...key({ state: 'decrypt-only', key: key32() })] }),
      'unknown state': JSON.stringify({ ...good, issuerKeys: key({ state: 'enabled' }) }),
      'id 0': JSON.stringify({ ...good, issuerKeys: key({ id: 0 }) }),
      'id 65536': JSON.stringify({ ...good, issuerKeys: key({ id: 65536 }) }),
      'id -1': JSON.stringify({ ...good, issuerKeys: key({ id: -1 }) }),
      'id 1.5': JSON.stringify({ ...good, issuerKeys: key({ id: 1.5 }) }),
      'id "1"': JSON.stringify({ ...good, issuerKeys: key({ id: '1' }) }),
      'no createdAt': JSON.stringify({ ...good, issuerKeys: key({ createdAt: undefined }) }),
      'key too short': JSON.stringify({ ...good, issuerKeys: key({ key: secret.slice(0, 42) }) }),
      'key too long': JSON.stringify({ ...good, issuerKeys: key({ key: `${secret}A` }) }),
      'key in standard base64 with padding': JSON.stringify({ ...good, issuerKeys: key({ key: Buffer.from(secret, 'base64url').toString('base64') }) }),
      'key with a bad character': JSON.stringify({ ...good, issuerKeys: key({ key: `${secret.slice(0, 42)}!` }) }),
      'key as hex': JSON.stringify({ ...good, issuerKeys: key({ key: Buffer.from(secret, 'base64url').toString('hex') }) }),
      'key as an array': JSON.stringify({ ...good, issuerKeys: key({ key: [...Buffer.from(secret, 'base64url')] }) }),
      'no storage key': JSON.stringify({ ...good, storageKey: undefined }),
      'storage key not base64url': JSON.stringify({ ...good, storageKey: `${storage.slice(0, 40)}+/=` }),
    };
    for (const [name, text] of Object.entries(cases)) {
      const error = parseError(text);
      expect(isScanpayError(error, 'KEYRING_INVALID'), `${name}: ${String(error)}`).toBe(true);
      const message = (error as Error).message;
      expect(message, name).not.toContain(secret);
      expect(message, name).not.toContain(secret.slice(0, 12));
      expect(message, name).not.toContain(storage.slice(0, 12));
      expect(String((error as Error).stack), name).not.toContain(secret.slice(0, 12));
    }
    expect(IssuerKeyRing.parse(JSON.stringify(good)).list()).toHaveLength(1);
    // the boundary ids themselves are fine
    expect(IssuerKeyRing.parse(JSON.stringify({ ...good, issuerKeys: key({ id: 65535 }) })).active().id).toBe(65535);
  });

  it('save() writes an owner-only file atomically, replacing any existing one', async () => {
    const ring = IssuerKeyRing.generate();
    const file = join(dir, 'ring.json');
    await writeFile(file, 'old content', { mode: 0o644 });
    const oldInode = (await stat(file)).ino;
    await ring.save(file);
    const info = await stat(file);
    expect(info.mode & 0o777).toBe(0o600);
    expect(info.ino).not.toBe(oldInode); // renamed into place, not rewritten in place
    expect(await readFile(file, 'utf8')).toBe(ring.serialize());
    expect((await readdir(dir)).filter((n) => n.startsWith('ring.json'))).toEqual(['ring.json']); // no temp file left

    // many concurrent saves: the file is always one complete ring, never a mix or a truncation
    const rings = Array.from({ length: 8 }, () => IssuerKeyRing.generate());
    await Promise.all(rings.map((r) => r.save(file)));
    const text = await readFile(file, 'utf8');
    expect(rings.map((r) => r.serialize())).toContain(text);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((n) => n.startsWith('ring.json'))).toEqual(['ring.json']);

    // into a directory that does not exist: an error, and no file
    await expect(ring.save(join(dir, 'missing', 'ring.json'))).rejects.toThrow();
  });

  it('load() reads SCANPAY_KEYRING, SCANPAY_KEYRING_FILE or an explicit file', async () => {
    const ring = IssuerKeyRing.generate();
    ring.rotate();
    const file = join(dir, 'load.json');
    await ring.save(file);
    const fromEnv = await IssuerKeyRing.load({ env: { SCANPAY_KEYRING: ring.serialize() } });
    const fromEnvFile = await IssuerKeyRing.load({ env: { SCANPAY_KEYRING_FILE: file } });
    const fromFile = await IssuerKeyRing.load({ file, env: {} });
    for (const loaded of [fromEnv, fromEnvFile, fromFile]) expect(loaded.serialize()).toBe(ring.serialize());
    // an explicit file wins over the environment
    const other = IssuerKeyRing.generate();
    expect((await IssuerKeyRing.load({ file, env: { SCANPAY_KEYRING: other.serialize() } })).serialize()).toBe(ring.serialize());

    const failures = [
      () => IssuerKeyRing.load({ env: {} }),
      () => IssuerKeyRing.load({ file: join(dir, 'nope.json'), env: {} }),
      () => IssuerKeyRing.load({ file: dir, env: {} }), // a directory
      () => IssuerKeyRing.load({ env: { SCANPAY_KEYRING: `${ring.serialize()}x` } }),
    ];
    for (const load of failures) {
      const error = await load().then(() => null, (e: unknown) => e);
      expect(isScanpayError(error, 'KEYRING_INVALID'), String(error)).toBe(true);
      for (const secret of secretsOf(ring)) expect((error as Error).message).not.toContain(secret);
    }
  });

  it('rotate makes the old key decrypt-only; the active key cannot be retired; retired keys no longer open', () => {
    const ring = IssuerKeyRing.generate();
    const first = ring.active().key;
    expect(() => ring.retire(1)).toThrowError(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(ring.list()[0].state).toBe('active');
    expect(ring.rotate()).toBe(2);
    expect(ring.list().map((k) => [k.id, k.state])).toEqual([[1, 'decrypt-only'], [2, 'active']]);
    expect(ring.active().id).toBe(2);
    expect(b64u(ring.keyForOpening(1))).toBe(b64u(first)); // still opens old payloads
    expect(b64u(ring.active().key)).not.toBe(b64u(first));
    expect(() => ring.retire(2)).toThrowError(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => ring.retire(7)).toThrowError(expect.objectContaining({ code: 'KEY_UNKNOWN' }));
    ring.retire(1);
    expect(() => ring.keyForOpening(1)).toThrowError(expect.objectContaining({ code: 'KEY_RETIRED' }));
    expect(() => ring.keyForOpening(3)).toThrowError(expect.objectContaining({ code: 'KEY_UNKNOWN' }));
    expect(() => ring.keyForOpening(0)).toThrowError(expect.objectContaining({ code: 'KEY_UNKNOWN' }));
    expect(ring.rotate()).toBe(3);
    expect(ring.list().map((k) => k.state)).toEqual(['retired', 'decrypt-only', 'active']);
    // the lifecycle survives a round trip through the file format
    const back = IssuerKeyRing.parse(ring.serialize());
    expect(() => back.keyForOpening(1)).toThrowError(expect.objectContaining({ code: 'KEY_RETIRED' }));
    expect(back.active().id).toBe(3);
  });

  it('rotate refuses to go past key id 65535', () => {
    const ring = IssuerKeyRing.parse(JSON.stringify(doc({
      issuerKeys: [{ id: 65535, state: 'active', key: key32(), createdAt: '2025-01-01T00:00:00.000Z' }],
    })));
    expect(() => ring.rotate()).toThrowError(expect.objectContaining({ code: 'KEYRING_INVALID' }));
    expect(ring.list()).toEqual([{ id: 65535, state: 'active', createdAt: '2025-01-01T00:00:00.000Z' }]);
  });
});

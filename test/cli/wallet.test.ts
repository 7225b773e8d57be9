/**
 * `scanpay card wallets | wallet-revoke | policy`, driven in-process through main(argv, out) against Redis under a
 * per-run prefix: the listing (id, created, status, last counter) of enrolments made through the store's own steps,
 * revocation (idempotent, said so; an unknown id is ENROLMENT_UNKNOWN, exit 2, and a malformed one USAGE), and the
 * policy (shown without options, changed with them, bad values refused before anything is written). Masked PAN only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { Output } from '../../cli/output.ts';
import { loadCore } from '../../core/index.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { panOfPayload } from '../../issuer/verifier.ts';
import { newSessionId, openStore, type Store } from '../../issuer/store/index.ts';
import { ENROLMENT_DEVICE, ENROLMENT_MERCHANT, ENROLMENT_PURPOSE } from '../../issuer/store/wallet-types.ts';
import { deleteKeys, describeRedis, redisForTests, testKeyPrefix } from '../support/redis.ts';

const ERROR_LINE = /^scanpay: [^\n]+ \[[A-Z][A-Z0-9_]*\]$/;
const redis = await redisForTests();
afterAll(async () => {
  await redis?.stop();
});

interface Run { code: number; lines: string[]; errors: string[]; json: any; all: string } // eslint-disable-line @typescript-eslint/no-explicit-any

async function cli(args: string[]): Promise<Run> {
  const lines: string[] = [];
  const errors: string[] = [];
  const jsons: unknown[] = [];
  const out: Output = { line: (t) => lines.push(t), json: (v) => jsons.push(JSON.parse(JSON.stringify(v))), error: (t) => errors.push(t) };
  const code = await main(['node', 'scanpay', ...args], out);
  return { code, lines, errors, json: jsons.length === 1 ? jsons[0] : undefined, all: [...lines, ...jsons.map((j) => JSON.stringify(j)), ...errors].join('\n') };
}

describeRedis(redis, 'scanpay card wallets, wallet-revoke and policy', (r) => {
  const prefix = testKeyPrefix();
  let dir: string;
  let keyring: string;
  let store: Store;
  let pan: string;
  let token: string;
  const g = () => ['--redis', r.url, '--prefix', prefix, '--keyring', keyring];

  /** An enrolment of the card through the store's steps (as the gateway's /wallet makes one). */
  async function enrol(): Promise<string> {
    const card = (await store.getCard(token))!;
    const now = Date.now();
    const session = {
      id: newSessionId(token), deviceId: ENROLMENT_DEVICE, cardToken: token, last4: card.last4, payload: new Uint8Array(112), amount: 0,
      currency: card.currency, merchant: ENROLMENT_MERCHANT, captureMethod: 'automatic' as const, holdWindowMs: 1, purpose: ENROLMENT_PURPOSE as typeof ENROLMENT_PURPOSE,
      createdAt: now, expiresAt: now + 60_000,
    };
    expect(await store.openSession(session, { basicKeyCheck: card.basicKeyCheck, generation: card.generation, keyId: card.keyId })).toEqual({ ok: true });
    const attempt = randomBytes(16).toString('hex');
    expect((await store.beginPinAttempt(session.id, null, attempt, now, { lockAt: 3, paceMs: 0, from: 'page', purpose: 'wallet-enrolment' })).kind).toBe('evaluate');
    const id = randomBytes(16).toString('hex');
    expect((await store.completeEnrolment(session.id, { id, wrappedPan: new Uint8Array(randomBytes(44)) }, attempt, now)).kind).toBe('enrolled');
    return id;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanpay-cli-wallet-'));
    keyring = join(dir, 'keyring.json');
    store = await openStore({ redisUrl: r.url, prefix });
    expect((await cli([...g(), 'keys', 'generate'])).code).toBe(0);
    const issued = await cli([...g(), 'card', 'issue', '--pin', '1234', '--limit', '5000', '--currency', 'EUR', '--json']);
    expect(issued.code, issued.errors.join('\n')).toBe(0);
    const ring = await IssuerKeyRing.load({ file: keyring, env: {} });
    pan = panOfPayload({ core: await loadCore(), keyRing: ring }, issued.json.payload);
    token = ring.cardToken(pan);
  });
  afterAll(async () => {
    await store?.close();
    await deleteKeys(r.url, prefix);
    await rm(dir, { recursive: true, force: true });
  });

  it('card wallets lists none, then each enrolment with its id, creation, status and last counter', async () => {
    const none = await cli([...g(), 'card', 'wallets', pan]);
    expect(none.code, none.errors.join('\n')).toBe(0);
    expect(none.lines[0]).toMatch(/^card •••• •••• •••• \d{4}: 0 wallets \(0 active\)$/);
    expect(none.lines).toContain('static QR allowed (any amount)');
    const first = await enrol();
    const second = await enrol();
    const listed = await cli([...g(), 'card', 'wallets', pan]);
    expect(listed.code).toBe(0);
    expect(listed.lines[0]).toMatch(/: 2 wallets \(2 active\)$/);
    expect(listed.lines[1]).toMatch(/^id\s+created\s+status\s+last counter$/);
    for (const id of [first, second]) expect(listed.lines).toContainEqual(expect.stringMatching(new RegExp(`^${id}  \\d{4}-\\d\\d-\\d\\dT[^ ]+Z  active   0$`)));
    const json = await cli([...g(), 'card', 'wallets', pan, '--json']);
    expect(json.json.enrolments.map((e: { id: string }) => e.id).sort()).toEqual([first, second].sort());
    expect(json.json.enrolments[0]).toMatchObject({ status: 'active', revokedAt: null, lastCounter: 0 });
    expect(json.json.policy).toEqual({ staticQr: 'allowed', staticQrLimit: 0, codeNoPinLimit: 0 });
    for (const run of [none, listed, json]) expect(run.all).not.toContain(pan);
  });

  it('card wallet-revoke revokes once and says so; again it changes nothing; the listing shows it revoked', async () => {
    const id = await enrol();
    const revoked = await cli([...g(), 'card', 'wallet-revoke', id]);
    expect(revoked.code, revoked.errors.join('\n')).toBe(0);
    expect(revoked.lines).toEqual([`revoked wallet ${id}: its codes are refused from now on`]);
    const again = await cli([...g(), 'card', 'wallet-revoke', id, '--json']);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ outcome: 'already-revoked', enrolment: { id, status: 'revoked' } });
    const listed = await cli([...g(), 'card', 'wallets', pan, '--json']);
    const row = listed.json.enrolments.find((e: { id: string }) => e.id === id);
    expect(row).toMatchObject({ status: 'revoked', revokedAt: again.json.enrolment.revokedAt });
    expect((await store.getEnrolment(id))!.status).toBe('revoked');
  });

  it('card wallet-revoke: an unknown id is ENROLMENT_UNKNOWN (exit 2), a malformed one USAGE (exit 2); nothing changes', async () => {
    const unknown = randomBytes(16).toString('hex');
    const run = await cli([...g(), 'card', 'wallet-revoke', unknown]);
    expect(run.code).toBe(2);
    expect(run.errors).toEqual([expect.stringMatching(ERROR_LINE)]);
    expect(run.errors[0]).toMatch(/\[ENROLMENT_UNKNOWN\]$/);
    expect(run.lines).toEqual([]);
    expect(await store.getEnrolment(unknown)).toBeNull();
    for (const bad of ['xyz', unknown.toUpperCase(), `${unknown}0`]) {
      const refused = await cli([...g(), 'card', 'wallet-revoke', bad]);
      expect(refused.code, bad).toBe(2);
      expect(refused.errors[0]).toMatch(/\[USAGE\]$/);
    }
  });

  it('card policy shows the policy without options, changes it with them, and refuses bad values before writing', async () => {
    const shown = await cli([...g(), 'card', 'policy', pan]);
    expect(shown.code).toBe(0);
    expect(shown.lines.slice(1)).toEqual(['static QR allowed (any amount)', 'codes     every payment asks the PIN on the phone']);
    const set = await cli([...g(), 'card', 'policy', pan, '--static-qr', 'limit', '--static-qr-limit', '2000', '--code-no-pin-limit', '500']);
    expect(set.code, set.errors.join('\n')).toBe(0);
    expect(set.lines[0]).toMatch(/^changed the wallet policy of card •••• •••• •••• \d{4}: static QR allowed → limit, static-QR limit 0 → 2000, code no-PIN limit 0 → 500$/);
    expect(set.lines.slice(1)).toEqual(['static QR allowed up to 2000 EUR minor units', 'codes     no PIN up to 500 EUR minor units, the PIN on the phone above']);
    expect(await store.getCard(token)).toMatchObject({ staticQr: 'limit', staticQrLimit: 2000, codeNoPinLimit: 500 });
    const same = await cli([...g(), 'card', 'policy', pan, '--code-no-pin-limit', '500', '--json']);
    expect(same.json).toEqual({ maskedPan: expect.stringMatching(/^•••• /), policy: { staticQr: 'limit', staticQrLimit: 2000, codeNoPinLimit: 500 }, changed: [] });
    for (const args of [
      ['--static-qr', 'sometimes'], ['--static-qr-limit', '-1'], ['--code-no-pin-limit', '1.5'], ['--static-qr', 'allowed', '--static-qr-limit', '10'],
    ]) {
      const refused = await cli([...g(), 'card', 'policy', pan, ...args]);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.errors, args.join(' ')).toEqual([expect.stringMatching(/\[USAGE\]$/)]);
    }
    expect(await store.getCard(token)).toMatchObject({ staticQr: 'limit', staticQrLimit: 2000, codeNoPinLimit: 500 });
    const back = await cli([...g(), 'card', 'policy', pan, '--static-qr', 'refused-when-enrolled']);
    expect(back.code).toBe(0);
    expect(back.lines).toContain('static QR refused while a wallet is enrolled');
    expect(back.all).not.toContain(pan);
  });
});

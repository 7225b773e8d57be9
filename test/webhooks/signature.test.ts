/**
 * The webhook signature (protocol/webhook-signature.ts, the SDK's verifyWebhook): the worked example in
 * docs/webhooks.md recomputed byte for byte, and the check a receiver runs refusing a forged signature, a replay
 * older than the tolerance, an altered body, a malformed header; accepting either secret during a rotation.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifyWebhook, webhookSignature } from '../../sdk/index.ts';
import { WebhookSecretBox, newSigningSecret } from '../../gateway/webhooks/secrets.ts';

const doc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
const example = doc.slice(doc.indexOf('### Worked example'));
const blocks = [...example.matchAll(/```(?:text|json)\n([^\n]*)\n```/g)].map((m) => m[1]!);

describe('the worked example in docs/webhooks.md', () => {
  it('recomputes to the documented signature and header', () => {
    const [secret, t, body, hex] = blocks as [string, string, string, string];
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.byteLength(body)).toBe(Number(/body \(one line, (\d+) bytes/.exec(example)![1]));
    expect(webhookSignature(secret, Number(t), body)).toBe(hex);
    expect(signatureHeader([secret], Number(t), body)).toBe(`t=${t},v1=${hex}`);
    expect(example).toContain(`\`t=${t},v1=${hex}\``);
    expect(verifyWebhook(body, `t=${t},v1=${hex}`, [secret], { now: Number(t) + 299 })).toEqual({ ok: true, t: Number(t) });
  });
});

describe('verifyWebhook', () => {
  const secret = newSigningSecret();
  const body = '{"object":"event","id":"ev_00000000000000000000000000000000_1"}';
  const t = 1_800_000_000;
  const header = signatureHeader([secret], t, body);

  it('accepts the signed body within the tolerance, either way', () => {
    expect(verifyWebhook(body, header, [secret], { now: t })).toEqual({ ok: true, t });
    expect(verifyWebhook(Buffer.from(body), header, [secret], { now: t - 300 })).toMatchObject({ ok: true });
    expect(verifyWebhook(body, header, ['whsec_other', secret], { now: t + 300 })).toMatchObject({ ok: true });
  });

  it('refuses a forged signature: another secret, or a v1 made up', () => {
    expect(verifyWebhook(body, signatureHeader([newSigningSecret()], t, body), [secret], { now: t })).toEqual({ ok: false, reason: 'no-match' });
    expect(verifyWebhook(body, `t=${t},v1=${'ab'.repeat(32)}`, [secret], { now: t })).toEqual({ ok: false, reason: 'no-match' });
    // the right signature under another timestamp: t is signed
    expect(verifyWebhook(body, header.replace(`t=${t}`, `t=${t + 1}`), [secret], { now: t })).toEqual({ ok: false, reason: 'no-match' });
  });

  it('refuses a replay older than the tolerance (and a time too far ahead)', () => {
    expect(verifyWebhook(body, header, [secret], { now: t + 301 })).toEqual({ ok: false, reason: 'too-old' });
    expect(verifyWebhook(body, header, [secret], { now: t + 61, toleranceSec: 60 })).toEqual({ ok: false, reason: 'too-old' });
    expect(verifyWebhook(body, header, [secret], { now: t - 301 })).toEqual({ ok: false, reason: 'too-new' });
  });

  it('refuses an altered body: one byte changed, appended or cut', () => {
    expect(verifyWebhook(body.replace('_1"', '_2"'), header, [secret], { now: t })).toEqual({ ok: false, reason: 'no-match' });
    expect(verifyWebhook(`${body} `, header, [secret], { now: t })).toEqual({ ok: false, reason: 'no-match' });
    expect(verifyWebhook(body.slice(0, -1), header, [secret], { now: t })).toEqual({ ok: false, reason: 'no-match' });
    const flipped = Buffer.from(body);
    flipped[5]! ^= 1;
    expect(verifyWebhook(flipped, header, [secret], { now: t })).toEqual({ ok: false, reason: 'no-match' });
  });

  it('refuses a malformed header', () => {
    for (const bad of [undefined, null, '', `v1=${'a'.repeat(64)}`, `t=${t}`, `t=${t},t=${t},v1=${'a'.repeat(64)}`, `t=x,v1=${'a'.repeat(64)}`,
      `t=${t},v1=${'a'.repeat(64)},${'x=1,'.repeat(20)}`, 'x'.repeat(3000)]) {
      expect(verifyWebhook(body, bad, [secret], { now: t }), String(bad).slice(0, 40)).toEqual({ ok: false, reason: 'malformed' });
    }
    // a later scheme beside v1 is ignored
    expect(verifyWebhook(body, `${header},v2=${'c'.repeat(64)}`, [secret], { now: t })).toMatchObject({ ok: true });
  });

  it('during a rotation both signatures are sent: a receiver with either secret accepts', () => {
    const next = newSigningSecret();
    const both = signatureHeader([next, secret], t, body);
    expect(both.split(',')).toHaveLength(3);
    expect(verifyWebhook(body, both, [secret], { now: t })).toMatchObject({ ok: true });
    expect(verifyWebhook(body, both, [next], { now: t })).toMatchObject({ ok: true });
    expect(verifyWebhook(body, both, [newSigningSecret()], { now: t })).toEqual({ ok: false, reason: 'no-match' });
  });
});

describe('sealed secrets', () => {
  const fleetKey = new Uint8Array(32).fill(9);
  const endpoint = `we_${'1'.repeat(32)}`;

  it('seal to a text without the secret; open only under the same fleet key, merchant and endpoint', () => {
    const box = WebhookSecretBox.fromFleetKey(fleetKey);
    const secret = newSigningSecret();
    const sealed = box.seal('acme', endpoint, secret);
    expect(sealed).not.toContain(secret.slice(6));
    expect(sealed).not.toBe(box.seal('acme', endpoint, secret)); // a fresh nonce each time
    expect(box.open('acme', endpoint, sealed)).toBe(secret);
    expect(() => box.open('other', endpoint, sealed)).toThrow(expect.objectContaining({ code: 'FLEET_KEY_INVALID' }));
    expect(() => box.open('acme', `we_${'2'.repeat(32)}`, sealed)).toThrow(expect.objectContaining({ code: 'FLEET_KEY_INVALID' }));
    expect(() => WebhookSecretBox.fromFleetKey(new Uint8Array(32).fill(8)).open('acme', endpoint, sealed)).toThrow(expect.objectContaining({ code: 'FLEET_KEY_INVALID' }));
    const bytes = Buffer.from(sealed, 'base64url');
    bytes[20]! ^= 1;
    expect(() => box.open('acme', endpoint, bytes.toString('base64url'))).toThrow(expect.objectContaining({ code: 'FLEET_KEY_INVALID' }));
    box.close();
  });
});

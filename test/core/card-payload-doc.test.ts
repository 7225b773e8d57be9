/**
 * docs/card-payload.md's worked example of a one-time code (payload v2) is what a third party computes from the
 * rules the page states, and what scanpay/core computes: the values are read from the page (inputs and every derived
 * value), recomputed with node:crypto and the npm base45 package, and with the WASM core, and compared.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import base45 from 'base45';
import { describe, expect, it } from 'vitest';
import { codeTimeStep, decodeCode, deriveWalletKey, loadCore, oneTimeCode } from '../../core/index.ts';

const doc = readFileSync(new URL('../../docs/card-payload.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('### Worked example'));

/** The value printed after `label` at the start of a line of the example's blocks. */
function value(label: string): string {
  const match = new RegExp(`^${label} {2,}(.+)$`, 'm').exec(section);
  if (!match) throw new Error(`docs/card-payload.md: no "${label}" line in the worked example`);
  return match[1]!.trim();
}

describe('docs/card-payload.md, payload v2 worked example', () => {
  const basicKey = Buffer.from(value('basic key'), 'hex');
  const enrolmentId = Buffer.from(value('enrolment id'), 'hex');
  const [, iso, unix] = /^(\S+) = unix (\d+)$/.exec(value('time'))!;
  const counter = Number(value('counter'));
  const [, stepDecimal, stepHex] = /^(\d+) = 0x([0-9a-f]+)$/.exec(value('step'))!;

  it('the inputs are well formed and agree with each other', () => {
    expect(basicKey.length).toBe(32);
    expect(enrolmentId.length).toBe(16);
    expect(Date.parse(iso!) / 1000).toBe(Number(unix));
    expect(Number(stepDecimal)).toBe(Number.parseInt(stepHex!, 16));
  });

  it('node:crypto and base45, from the rules on the page, print the page\'s values', () => {
    const step = Math.floor(Number(unix) / 30);
    expect(step).toBe(Number(stepDecimal));
    const walletKey = Buffer.from(hkdfSync('sha256', basicKey, Buffer.alloc(0), Buffer.concat([Buffer.from('scanpay/v2/wallet-key'), enrolmentId]), 32));
    expect(walletKey.toString('hex')).toBe(value('wallet key'));
    const signed = Buffer.concat([Buffer.from([2]), enrolmentId, Buffer.alloc(8)]);
    signed.writeUInt32BE(step, 17);
    signed.writeUInt32BE(counter, 21);
    expect(signed.toString('hex')).toBe(value('signed bytes'));
    const mac = createHmac('sha256', walletKey).update('scanpay/v2/code\n').update(signed).digest().subarray(0, 16);
    expect(mac.toString('hex')).toBe(value('mac'));
    const text = base45.encode(Buffer.concat([signed, mac]));
    expect(text).toBe(value('text'));
    expect(text).toHaveLength(62);
  });

  it('scanpay/core (deriveWalletKey, codeTimeStep, oneTimeCode, decodeCode) prints the page\'s values', async () => {
    const core = await loadCore();
    const walletKey = deriveWalletKey(core, basicKey, enrolmentId);
    expect(Buffer.from(walletKey).toString('hex')).toBe(value('wallet key'));
    const step = codeTimeStep(Date.parse(iso!));
    expect(step).toBe(Number(stepDecimal));
    const { bytes, text } = oneTimeCode(core, walletKey, { enrolmentId, step, counter });
    expect(Buffer.from(bytes.subarray(0, 25)).toString('hex')).toBe(value('signed bytes'));
    expect(Buffer.from(bytes.subarray(25)).toString('hex')).toBe(value('mac'));
    expect(text).toBe(value('text'));
    const decoded = decodeCode(text);
    expect({ id: Buffer.from(decoded.enrolmentId).toString('hex'), step: decoded.step, counter: decoded.counter })
      .toEqual({ id: value('enrolment id'), step, counter });
  });
});

/**
 * DVD-1 code records (core/types.ts Dvd1CodeRecord: a wallet's one-time code against its card row) for the bench
 * and the tests, built with node:crypto only from a seeded stream (makeDvd1Cases gives the card: PAN, basic key).
 * With `tamper`, a record carries one corruption after its code was MAC'd, so that every status bit and every
 * signed field is exercised; `withPin` records carry the PIN (a wrong one under 'pin').
 */
import { createHmac, hkdfSync } from 'node:crypto';
import type { Dvd1CodeRecord } from '../../core/types.ts';
import { makeDvd1Cases } from './records.ts';
import { SeededBytes } from './seeded-bytes.ts';

export const CODE_TAMPERS = ['mac', 'version', 'enrolment-id', 'step', 'counter', 'basic-key', 'pan', 'pin', 'no-pan'] as const;
export type CodeTamper = (typeof CODE_TAMPERS)[number];

/**
 * The status a tamper gives (DVD1_STATUS bits: CODE_MAC 128, LUHN 4, PVV 16); 'pin' turns withPin on. 'basic-key',
 * 'pan' and 'no-pan' also fail the PVV (16) of a record that carries the PIN.
 */
export const CODE_TAMPER_STATUS: Record<CodeTamper, number> = {
  mac: 128, version: 128, 'enrolment-id': 128, step: 128, counter: 128, 'basic-key': 128, pan: 4, pin: 16, 'no-pan': 4,
};

export interface CodeCase {
  record: Dvd1CodeRecord;
  basicKey: Uint8Array; // the card's (the record's storedBasicKey unless tampered)
  pan: Uint8Array;
  pin: Uint8Array; // the right PIN
  walletKey: Uint8Array;
  tamper: CodeTamper | undefined;
}

export function walletKeyOf(basicKey: Uint8Array, enrolmentId: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', basicKey, new Uint8Array(0), Buffer.concat([Buffer.from('scanpay/v2/wallet-key'), enrolmentId]), 32));
}

/** version 2 ‖ enrolment id ‖ step ‖ counter ‖ HMAC(walletKey, "scanpay/v2/code\n" ‖ those 25 bytes)[0..16]. */
export function codeOf(walletKey: Uint8Array, enrolmentId: Uint8Array, step: number, counter: number): Uint8Array {
  const code = Buffer.alloc(41);
  code[0] = 2;
  code.set(enrolmentId, 1);
  code.writeUInt32BE(step, 17);
  code.writeUInt32BE(counter, 21);
  createHmac('sha256', walletKey).update('scanpay/v2/code\n').update(code.subarray(0, 25)).digest().copy(code, 25, 0, 16);
  return new Uint8Array(code);
}

export function pvvOf(basicKey: Uint8Array, pan: Uint8Array, pin: Uint8Array): Uint8Array {
  const kPin = new Uint8Array(hkdfSync('sha256', basicKey, new Uint8Array(0), 'scanpay/v1/pin', 32));
  return new Uint8Array(createHmac('sha256', kPin).update(pan).update(pin).digest());
}

export interface CodeCaseOptions {
  seed?: number;
  withPin?: boolean; // default false: the code stands in for the PIN
  tamper?: CodeTamper | ((i: number) => CodeTamper | undefined);
}

export function makeCodeCases(n: number, { seed = 1, withPin = false, tamper }: CodeCaseOptions = {}): CodeCase[] {
  const rng = new SeededBytes((seed ^ 0x5ca9) >>> 0);
  return makeDvd1Cases(n, { seed }).map((card, i) => {
    const which = typeof tamper === 'function' ? tamper(i) : tamper;
    const enrolmentId = rng.bytes(16);
    const [a, b, c, d] = rng.bytes(4);
    const step = ((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0;
    const counter = (step ^ 0x9e3779b9) >>> 0;
    const basicKey = card.basicKey;
    const pan = card.pan;
    const pin = card.record.pin;
    const walletKey = walletKeyOf(basicKey, enrolmentId);
    const code = codeOf(walletKey, enrolmentId, step, counter);
    const record: Dvd1CodeRecord = {
      code, pan: pan.slice(), withPin, storedBasicKey: basicKey.slice(), storedPvv: pvvOf(basicKey, pan, pin),
      pin: withPin ? pin.slice() : new Uint8Array(4), sid: card.record.sid, merchant: card.record.merchant, amount: card.record.amount,
    };
    switch (which) {
      case 'mac': record.code[40] ^= 0x01; break;
      case 'version': record.code[0] = 1; break;
      case 'enrolment-id': record.code[1] ^= 0x80; break;
      case 'step': record.code[20] ^= 0x01; break;
      case 'counter': record.code[24] ^= 0x01; break;
      case 'basic-key': record.storedBasicKey[7] ^= 0x10; break;
      case 'pan': record.pan[15] = 0x30 + ((record.pan[15]! - 0x30 + 1) % 10); break;
      case 'pin': record.withPin = true; record.pin = pin.map((x) => 0x30 + ((x - 0x30 + 1) % 10)); break;
      case 'no-pan': record.pan = new Uint8Array(16); break;
      case undefined: break;
    }
    return { record, basicKey, pan, pin, walletKey, tamper: which };
  });
}

/**
 * Wallet enrolments and one-time code checks (issuer/card-engine.ts EnrolmentCheck, CodeCheck) for real cards:
 * what the gateway sends its crypto engine when a wallet enrols and when a code is scanned. The cards are
 * makePinChecks' (sealed, wrapped and PVV'd as the issuer does); each enrolment gets a fresh id, and `codeChecks`
 * builds code checks from the engine's enrolment answers (a code MAC'd with the wallet key, as the wallet would).
 * For the pool benchmark and the engine tests.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { CryptoCore } from '../../core/types.ts';
import { codeTimeStep, oneTimeCode } from '../../core/one-time-code.ts';
import type { CodeCheck, EnrolmentCheck, EnrolmentChecked, PinCheck } from '../../issuer/card-engine.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';
import { makePinChecks } from './pin-checks.ts';

export interface EnrolmentFixture {
  keyRing: IssuerKeyRing;
  pins: PinCheck[]; // the cards' PIN checks (right PIN), one per enrolment
  enrolments: EnrolmentCheck[];
}

export function makeEnrolmentChecks(core: CryptoCore, count: number, keyRing = IssuerKeyRing.generate()): EnrolmentFixture {
  const { checks } = makePinChecks(core, count, keyRing);
  const enrolments = checks.map(({ payload, card, wrappedBasicKey, pvv, pin }): EnrolmentCheck => ({
    payload, card, wrappedBasicKey, pvv, pin, enrolmentId: randomBytes(16).toString('hex'),
  }));
  return { keyRing, pins: checks, enrolments };
}

/**
 * A code check per passed enrolment: a code for (step, counter) MAC'd with its wallet key, for the card's PIN check's
 * session, merchant and amount; `pin: null` (the code stands in for the PIN) unless `withPin`.
 */
export function codeChecks(
  core: CryptoCore, fixture: EnrolmentFixture, answers: readonly EnrolmentChecked[],
  { step = codeTimeStep(Date.now()), withPin = false }: { step?: number; withPin?: boolean } = {},
): CodeCheck[] {
  return answers.map((answer, i) => {
    if (!answer.ok) throw new Error(`enrolment ${i} did not pass (status ${answer.status})`);
    const enrolment = fixture.enrolments[i]!;
    const pinCheck = fixture.pins[i]!;
    const enrolmentId = new Uint8Array(Buffer.from(enrolment.enrolmentId, 'hex'));
    const { bytes } = oneTimeCode(core, answer.walletKey!, { enrolmentId, step, counter: randomInt(1, 2 ** 31) });
    return {
      code: bytes, card: enrolment.card, wrappedBasicKey: enrolment.wrappedBasicKey, pvv: enrolment.pvv, wrappedPan: answer.wrappedPan!,
      pin: withPin ? pinCheck.pin : null, sessionId: pinCheck.sessionId, merchant: pinCheck.merchant, amount: pinCheck.amount,
    };
  });
}

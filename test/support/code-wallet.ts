/**
 * A wallet enrolled through the real path (the gateway's /wallet/enrol routes: the printed card's QR text, then
 * the PIN), and the one-time codes it would show (core/one-time-code.ts oneTimeCode with the wallet key the
 * enrolment handed back). For the code-pay tests.
 * @example
 *   const wallet = await enrolWallet(fx.gateway.url, fx.core, card.payloadText);
 *   const { text } = wallet.code();            // counter 1, this time step; the next call counter 2
 */
import { codeTimeStep, oneTimeCode } from '../../core/one-time-code.ts';
import type { CryptoCore } from '../../core/types.ts';
import { PIN } from './gateway-fixture.ts';

export interface TestWallet {
  enrolmentId: string;
  walletKey: Uint8Array;
  /** The next code (counter +1 each call unless given), at `atMs` (default now). */
  code(opts?: { counter?: number; atMs?: number }): { text: string; bytes: Uint8Array; counter: number };
}

export async function enrolWallet(gatewayUrl: string, core: CryptoCore, cardText: string, pin = PIN): Promise<TestWallet> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${gatewayUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: gatewayUrl }, body: JSON.stringify(body) });
    const json = await res.json() as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const started = await post('/wallet/enrol', { card: cardText });
  const done = await post(`/wallet/enrol/${started.session as string}/pin`, { token: started.token, pin });
  const enrolmentId = done.enrolmentId as string;
  const walletKey = new Uint8Array(Buffer.from(done.walletKey as string, 'hex'));
  let counter = 0;
  return {
    enrolmentId, walletKey,
    code({ counter: given, atMs = Date.now() } = {}) {
      counter = given ?? counter + 1;
      const made = oneTimeCode(core, walletKey, { enrolmentId: Buffer.from(enrolmentId, 'hex'), step: codeTimeStep(atMs), counter });
      return { ...made, counter };
    },
  };
}

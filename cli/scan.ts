/**
 * `scanpay scan …`: a simulated scanner walking the whole flow through the SDK (S21 scan → S24 session →
 * S25 PIN, here or on the auth page → result with receipt MAC); `--repeat N` measures payments/s on one
 * connection. A merchant that takes the PIN on the holder's own phone (auth-required pinEntry holder-device) gets
 * the holder URL printed (and its QR code on a terminal) and no PIN is asked for or sent, whatever --pin says. The
 * card argument may be a wallet's one-time code (payload v2, protocol v1.6): up to the card's no-PIN limit it is paid
 * at the scan (no PIN asked), above it the PIN is taken on the holder's phone. The device's secret comes from `scanpay scanner provision` (cli/scanner.ts).
 * Exit: 0 approved, 1 declined or refused, 2 usage (cli/errors.ts).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ScanpayError } from '../core/errors.ts';
import { isDeviceId } from '../protocol/scanner-token.ts';
import { MAX_MINOR_UNITS, MERCHANT_BYTES, MIN_AMOUNT, isCurrency, isMerchant, isPin, parsePin } from '../protocol/values.ts';
import { ScannerClient, holderQrTerminal, isScannerError, type AuthRequiredFrame, type PaymentResultFrame, type ScanRequest } from '../sdk/index.ts';
import { readCardArgument } from './card-ref.ts';
import { CliError, EXIT, declined, noSuchFile, usageError } from './errors.ts';
import { promptHidden, readFirstLine } from './pin-prompt.ts';
import { parseInteger, withJson, type Output } from './output.ts';

const HEX_SECRET = /^[0-9a-fA-F]{64}$/;
const MAX_REPEAT = 1_000_000;
const RATE_LIMIT_RETRIES = 8;

interface ScanOptions {
  gateway?: string;
  device?: string;
  secret?: string;
  secretFile?: string;
  amount: string;
  currency: string;
  merchant: string;
  pin?: string;
  pinStdin?: boolean;
  page?: boolean;
  repeat: string;
  timeout: string;
  json?: boolean;
}

type PinSource = () => Promise<string>;

function usage(message: string): never {
  throw usageError(message);
}

function readSecret(opts: ScanOptions): string {
  if (opts.secret !== undefined && opts.secretFile !== undefined) usage('pass --secret or --secret-file, not both');
  let secret = opts.secret ?? process.env.SCANPAY_DEVICE_SECRET;
  if (opts.secretFile !== undefined) {
    try {
      secret = readFileSync(opts.secretFile, 'utf8');
    } catch (e) {
      const errno = (e as NodeJS.ErrnoException).code;
      if (errno === 'ENOENT') throw noSuchFile(`--secret-file ${opts.secretFile}`);
      throw new ScanpayError('BAD_ARGUMENT', `cannot read --secret-file ${opts.secretFile}: ${errno ?? 'error'}`);
    }
  }
  if (secret === undefined) usage('no device secret: pass --secret-file FILE (or --secret HEX, or set SCANPAY_DEVICE_SECRET)');
  if (!HEX_SECRET.test(secret.trim())) usage('the device secret must be 64 hex digits (see `scanpay scanner provision`)');
  return secret.trim();
}

/** Where the PIN comes from; decided (and checked) before connecting, read at most once. */
function pinSource(opts: ScanOptions): PinSource | null {
  const chosen = [opts.pin !== undefined, Boolean(opts.pinStdin), Boolean(opts.page)].filter(Boolean).length;
  if (chosen > 1) usage('pass only one of --pin, --pin-stdin, --page');
  if (opts.page) return null;
  let read: () => Promise<string>;
  if (opts.pin !== undefined) {
    if (!isPin(opts.pin)) usage('--pin must be exactly 4 digits');
    const pin = opts.pin;
    read = async () => pin;
  } else if (opts.pinStdin) {
    read = () => readFirstLine(process.stdin);
  } else if (process.stdin.isTTY) {
    read = () => promptHidden('PIN: ');
  } else {
    usage('stdin is not a terminal: pass --pin-stdin (PIN on the first line of stdin), --pin, or --page');
  }
  let cached: Promise<string> | undefined;
  return () => (cached ??= read().then((pin) => parsePin(pin)));
}

/** Retries a request the gateway refused with RATE_LIMITED (safe: a refused frame did nothing; pin frames are idempotent). */
async function withRateLimitRetry<T>(request: () => Promise<T>, stats: { rateLimited: number }): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (e) {
      if (!isScannerError(e, 'RATE_LIMITED') || attempt >= RATE_LIMIT_RETRIES) throw e;
      stats.rateLimited++;
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1_000)));
    }
  }
}

/** What a result line says of the payment: the session's, or (a one-time code paid at its scan, v1.6) the request's. */
type PaymentSummary = Pick<AuthRequiredFrame, 'amount' | 'currency' | 'merchant' | 'maskedPan'>;

function resultLine(auth: PaymentSummary, result: PaymentResultFrame): string {
  const reason = result.reason === null ? '' : ` ${result.reason}${result.attemptsLeft !== undefined ? ` (${result.attemptsLeft} attempt${result.attemptsLeft === 1 ? '' : 's'} left)` : ''}`;
  const maskedPan = result.receipt?.maskedPan ?? auth.maskedPan;
  const receipt = result.receipt ? `receipt ${result.receipt.mac}` : 'no receipt';
  return `${result.outcome}${reason}  ${auth.amount} ${auth.currency}  merchant ${auth.merchant}  card ${maskedPan}  ${receipt}  session ${result.session}${result.replayed ? '  (replayed)' : ''}`;
}

/** How long a page-flow result is waited for: the session's life, and a little more for the push. */
const pageWaitMs = (auth: AuthRequiredFrame): number => Math.min(Math.max(auth.expiresAt - Date.now(), 1_000) + 5_000, 3_600_000);

/**
 * A holder-device session: prints the holder URL (and, on a terminal, its QR code) for the holder's phone, and
 * waits for the result the gateway pushes when the holder has entered the PIN there.
 */
async function holderDevice(out: Output, holderUrl: string, auth: AuthRequiredFrame, client: ScannerClient, json: boolean): Promise<PaymentResultFrame> {
  out.line(`holder url ${holderUrl}`);
  if (!json && process.stdout.isTTY) out.line(await holderQrTerminal(holderUrl));
  process.stderr.write(`pay ${auth.amount} ${auth.currency} to ${auth.merchant} with card ${auth.maskedPan}: the holder scans the code and enters the PIN on their phone\n`);
  return client.waitForResult(auth.session, pageWaitMs(auth));
}

const afterApproved = (approved: number): string => (approved ? ` after ${approved} approved payment${approved > 1 ? 's' : ''}` : '');

/** An SDK failure part-way through --repeat: its own code, and how many payments went through first. */
function cliError(e: unknown, approved: number): unknown {
  if (!isScannerError(e) || !approved) return e;
  return new CliError(e.code, `${e.message}${afterApproved(approved)}`, EXIT.REFUSED);
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

export function scanCommand(program: Command, out: Output): void {
  withJson(program.command('scan <card>')
    .description('act as a scanner: scan a card (QR image, .txt payload file or payload text), pay, print the result')
    .option('--gateway <url>', 'gateway scanner endpoint, e.g. ws://localhost:8080/scanner (default: SCANPAY_GATEWAY)')
    .option('--device <id>', 'scanner device id (default: SCANPAY_DEVICE_ID)')
    .option('--secret <hex>', 'device secret, 64 hex digits (visible to other local users: prefer --secret-file or SCANPAY_DEVICE_SECRET)')
    .option('--secret-file <file>', 'file holding the device secret in hex')
    .requiredOption('--amount <minor>', 'amount in minor units (e.g. cents)')
    .requiredOption('--currency <code>', 'ISO 4217 currency code, e.g. EUR')
    .requiredOption('--merchant <id>', `merchant id (1-${MERCHANT_BYTES} of A-Z a-z 0-9 . _ -)`)
    .option('--pin <digits>', "the holder's PIN (testing only: visible in the process list)")
    .option('--pin-stdin', 'read the PIN from the first line of stdin')
    .option('--page', 'do not take the PIN here: print the auth page URL and wait for the holder to pay there')
    .option('--repeat <n>', 'run N payments on one connection and print payments/s', '1')
    .option('--timeout <seconds>', 'connect and per-request timeout', '10'), 'print each result as JSON')
    .action(async (card: string, opts: ScanOptions) => {
      const url = opts.gateway ?? process.env.SCANPAY_GATEWAY;
      const deviceId = opts.device ?? process.env.SCANPAY_DEVICE_ID;
      if (!url) usage('no gateway: pass --gateway ws://HOST:PORT/scanner or set SCANPAY_GATEWAY');
      if (!deviceId) usage('no device id: pass --device ID or set SCANPAY_DEVICE_ID');
      if (!isDeviceId(deviceId)) usage('--device must be 1-64 of A-Z a-z 0-9 _ -');
      const secret = readSecret(opts);
      if (!isCurrency(opts.currency)) usage('--currency must be an ISO 4217 code, e.g. EUR');
      if (!isMerchant(opts.merchant)) usage(`--merchant must be 1-${MERCHANT_BYTES} of A-Z a-z 0-9 . _ -`);
      const amount = parseInteger(opts.amount, '--amount', MIN_AMOUNT, MAX_MINOR_UNITS);
      const repeat = parseInteger(opts.repeat, '--repeat', 1, MAX_REPEAT);
      const timeoutMs = parseInteger(opts.timeout, '--timeout', 1, 3_600) * 1000;
      const pin = pinSource(opts);
      const { text: payload } = await readCardArgument(card, { pan: false });
      const request: ScanRequest = { payload, amount, currency: opts.currency, merchant: opts.merchant };

      let client: ScannerClient;
      try {
        client = await ScannerClient.connect({ url, deviceId, secret, timeoutMs });
      } catch (e) {
        if (e instanceof RangeError) usage(e.message);
        throw e;
      }
      const stats = { rateLimited: 0 };
      const latencies: number[] = [];
      let approved = 0;
      let last: { auth: PaymentSummary; result: PaymentResultFrame } | undefined;
      const started = performance.now();
      try {
        for (let i = 0; i < repeat; i++) {
          const t0 = performance.now();
          const answer = await withRateLimitRetry(() => client.scanOrPay(request), stats);
          let result: PaymentResultFrame;
          let auth: PaymentSummary;
          if (answer.type === 'payment-result') {
            // a wallet's one-time code that stood in for the PIN: paid at the scan, nothing to ask
            result = answer;
            auth = { amount, currency: request.currency, merchant: request.merchant, maskedPan: answer.receipt?.maskedPan ?? '•••• •••• •••• ••••' };
          } else if (answer.holderUrl) {
            auth = answer;
            // the merchant takes the PIN on the holder's own phone: no PIN is asked for or sent from here
            if (i === 0 && pin) process.stderr.write('this merchant takes the PIN on the holder\'s phone: the PIN given here is not sent\n');
            result = await holderDevice(out, answer.holderUrl, answer, client, Boolean(opts.json));
          } else if (pin) {
            auth = answer;
            if (i === 0 && !opts.pinStdin && opts.pin === undefined) {
              process.stderr.write(`pay ${auth.amount} ${auth.currency} to ${auth.merchant} with card ${auth.maskedPan}\n`);
            }
            const digits = await pin();
            result = await withRateLimitRetry(() => client.submitPin(answer.session, digits), stats);
          } else {
            auth = answer;
            out.line(`auth page ${answer.url}`);
            result = await client.waitForResult(answer.session, pageWaitMs(answer));
          }
          latencies.push(performance.now() - t0);
          last = { auth, result };
          if (opts.json) out.json(result);
          else if (repeat === 1 || result.outcome !== 'approved') out.line(resultLine(auth, result));
          if (result.outcome !== 'approved') break;
          approved++;
        }
      } catch (e) {
        throw cliError(e, approved);
      } finally {
        await client.close();
      }
      const seconds = (performance.now() - started) / 1000;
      if (repeat > 1) {
        if (!opts.json && last?.result.outcome === 'approved') out.line(resultLine(last.auth, last.result));
        const sorted = latencies.sort((a, b) => a - b);
        out.line(`${approved} of ${repeat} payments approved in ${seconds.toFixed(2)} s: ${(approved / seconds).toFixed(1)} payments/s`
          + ` (latency p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`
          + `${stats.rateLimited ? `, ${stats.rateLimited} rate-limited retries` : ''})`);
      }
      if (last && last.result.outcome !== 'approved') throw declined(last.result.reason, afterApproved(approved));
    });
}

/**
 * `scanpay merchant …`: the merchants that take payments and call the merchant API (docs/merchant-api.md).
 * `create <id>` registers one with its first API key, `rotate-key <id>` gives it a new key and lets the others
 * live out a grace period; each prints its new key once — alone on stdout (for a pipe), in `--json`, or written
 * owner-only with `--out` — and the store keeps only the key's keyed hash (issuer/merchant-keys.ts, keyed from
 * the fleet key, so it needs the same fleet key as the gateways). `list` and `show <id>` print no secret: a key
 * appears by its public id only.
 * @example
 *   scanpay merchant create shop-1 --name 'Shop One' --capture manual --out shop-1.api-key
 *   scanpay merchant rotate-key shop-1 --grace 1h > new.key
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ScanpayError } from '../core/errors.ts';
import { apiKeyHashKey, newApiKey } from '../issuer/merchant-keys.ts';
import { DEFAULT_HOLD_WINDOW_MS } from '../issuer/payment.ts';
import type { ApiKeyRecord, CaptureMethod, MerchantRecord, Store } from '../issuer/store/index.ts';
import { MAX_HOLD_WINDOW_MS } from '../issuer/store/validate.ts';
import { loadFleetKey } from '../protocol/fleet-key.ts';
import { PIN_ENTRIES, isMerchant, isPinEntry, type PinEntry } from '../protocol/values.ts';
import { withStore, type GlobalOptions } from './context.ts';
import { usageError } from './errors.ts';
import { parseDuration, showDuration, withJson, type Output } from './output.ts';
import { SECRET_FILE_MODE, checkSecretTarget, writeSecretFile } from './secret-file.ts';

const NEEDS_STORE = 'needs --redis, REDIS_URL or REDIS_CLUSTER_NODES';
const FLEET_KEY_HELP = 'fleet key file, as the gateways use (default: SCANPAY_FLEET_KEY_FILE, or SCANPAY_FLEET_KEY as hex): API keys are hashed under a key derived from it';
/** How long a rotated-out key keeps working unless --grace says otherwise. */
export const DEFAULT_GRACE_MS = 86_400_000;
const MAX_NAME = 200;

export function checkedMerchantArg(id: string): string {
  if (!isMerchant(id)) throw usageError('merchant id must be 1-16 of A-Z a-z 0-9 . _ -');
  return id;
}

function captureMethod(value: string | undefined): CaptureMethod {
  if (value === undefined || value === 'automatic' || value === 'manual') return value ?? 'automatic';
  throw usageError(`--capture must be automatic or manual (got ${JSON.stringify(value.slice(0, 20))})`);
}

/** --pin-entry: where the merchant's holders enter the PIN; absent, its record sets none (the gateway's default). */
function pinEntryOption(value: string | undefined): PinEntry | undefined {
  if (value === undefined || isPinEntry(value)) return value;
  throw usageError(`--pin-entry must be ${PIN_ENTRIES.join(' or ')} (got ${JSON.stringify(value.slice(0, 20))})`);
}

/** What `merchant show` says of its PIN entry. */
function pinEntryText(m: MerchantRecord): string {
  if (m.pinEntry === 'holder-device') return 'PIN entry holder-device (on the holder\'s own phone; a PIN from a scanner is refused)';
  if (m.pinEntry === 'scanner') return 'PIN entry scanner';
  return 'PIN entry: the gateway\'s default (SCANPAY_PIN_ENTRY)';
}

function merchantName(value: string | undefined, id: string): string {
  if (value === undefined) return id;
  if (value.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(value)) throw usageError(`--name must be at most ${MAX_NAME} characters, without control characters`);
  return value;
}

const iso = (at: number) => new Date(at).toISOString();

/** A new API key for `merchant`: the key (to print once) and the record to store. The hash key is wiped at once. */
function makeKey(fleetKeyFile: string | undefined, merchant: string, now: number): { key: string; record: ApiKeyRecord } {
  const fleetKey = loadFleetKey({ file: fleetKeyFile });
  const hashKey = apiKeyHashKey(fleetKey);
  try {
    return newApiKey(hashKey, merchant, now);
  } finally {
    hashKey.fill(0);
    fleetKey.fill(0);
  }
}

interface KeyOutput {
  out?: string;
  force?: boolean;
  json?: boolean;
}

/** Checks an --out target before anything is made or stored; its absolute path, or undefined (print the key). */
function keyTarget(opts: KeyOutput): { file: string | undefined; replaced: boolean; target: { replace: boolean; how: string } } {
  if (opts.force && opts.out === undefined) throw usageError('--force replaces an --out file: pass --out FILE too');
  const file = opts.out === undefined ? undefined : resolve(opts.out);
  const target = { replace: Boolean(opts.force), how: 'remove it or pass another --out; --force replaces it' };
  return { file, replaced: file ? checkSecretTarget(file, '--out', target) : false, target };
}

/**
 * Gives the key to the operator, once: written to the --out file (then `said` on stdout), in --json with `fields`,
 * or alone on stdout (a pipe or `$(…)` gets just it).
 */
async function handOver(out: Output, opts: KeyOutput, key: string, fields: Record<string, unknown>, said: string[]): Promise<void> {
  const { file, replaced, target } = keyTarget(opts);
  if (file) {
    await writeSecretFile(file, `${key}\n`, target);
    if (opts.json) return out.json({ ...fields, wrote: file, mode: SECRET_FILE_MODE, replaced });
    out.line(`${replaced ? 'replaced' : 'wrote'} ${file} (mode ${SECRET_FILE_MODE}): ${said[0]}`);
    for (const line of said.slice(1)) out.line(line);
    return;
  }
  if (opts.json) return out.json({ ...fields, apiKey: key });
  out.line(key);
}

function merchantFields(m: MerchantRecord): Record<string, unknown> {
  // pinEntry null: the record sets none, so the gateway's default (SCANPAY_PIN_ENTRY) applies
  return { merchant: m.id, name: m.name, captureMethod: m.captureMethod, holdWindowMs: m.holdWindowMs, pinEntry: m.pinEntry ?? null, createdAt: m.createdAt };
}

function keyState(k: ApiKeyRecord, now: number): string {
  if (k.expiresAt === null) return 'valid';
  return k.expiresAt <= now ? `ended ${iso(k.expiresAt)}` : `valid until ${iso(k.expiresAt)}`;
}

export function merchantCommand(program: Command, out: Output): void {
  const merchant = program.command('merchant').description('merchants and their merchant API keys (needs --redis URL or REDIS_URL)');
  const globals = () => program.opts<GlobalOptions>();
  const keyOptions = (cmd: Command) => cmd
    .option('--fleet-key-file <file>', FLEET_KEY_HELP)
    .option('--out <file>', `write the API key to this file, mode ${SECRET_FILE_MODE}, instead of printing it (an existing file is refused)`)
    .option('--force', 'with --out: replace an existing file');

  withJson(keyOptions(merchant.command('create <merchantId>')
    .description(`register a merchant and print its first merchant API key, once: alone on stdout, or written to a 0600 file with --out; the store keeps only its keyed hash (${NEEDS_STORE})`)
    .option('--name <name>', 'its name, for people (default: the id)')
    .option('--capture <method>', 'how its payments are captured unless a scan says otherwise: automatic (at once) or manual (held until captured)', 'automatic')
    .option('--hold <duration>', `with manual capture: how long an uncaptured hold lasts before it is released by itself (default ${showDuration(DEFAULT_HOLD_WINDOW_MS)}, at most ${showDuration(MAX_HOLD_WINDOW_MS)})`)
    .option('--pin-entry <where>', 'where its holders enter the PIN: scanner (a scanner\'s pin frame or the page it shows) or holder-device (their own phone only; a PIN from a scanner is refused) (default: the gateway\'s, SCANPAY_PIN_ENTRY)')),
    'print the merchant and its API key as JSON')
    .action(async (idArg: string, opts: KeyOutput & { name?: string; capture?: string; hold?: string; pinEntry?: string; fleetKeyFile?: string }) => {
      const id = checkedMerchantArg(idArg);
      const now = Date.now();
      const pinEntry = pinEntryOption(opts.pinEntry);
      const record: MerchantRecord = {
        id, name: merchantName(opts.name, id), captureMethod: captureMethod(opts.capture),
        holdWindowMs: opts.hold === undefined ? DEFAULT_HOLD_WINDOW_MS : parseDuration(opts.hold, '--hold', 1_000, MAX_HOLD_WINDOW_MS),
        ...(pinEntry === undefined ? {} : { pinEntry }),
        createdAt: now,
      };
      keyTarget(opts); // every check before anything is stored: the --out target, then the fleet key
      const made = makeKey(opts.fleetKeyFile, id, now);
      const created = await withStore(globals(), 'merchants', (store) => store.merchants.createMerchant(record, made.record));
      if (!created) throw new ScanpayError('MERCHANT_EXISTS', `${id}: \`scanpay merchant show ${id}\` shows it; \`merchant rotate-key ${id}\` gives it a new key`);
      const hold = record.captureMethod === 'manual' ? `, holds released after ${showDuration(record.holdWindowMs)}` : '';
      await handOver(out, opts, made.key, { action: 'create', ...merchantFields(record), keyId: made.record.keyId }, [
        `the API key of merchant ${id}`,
        `created merchant ${id} (${record.name}): capture ${record.captureMethod}${hold}${pinEntry ? `; PIN entry ${pinEntry}` : ''}; API key ${made.record.keyId} (only its hash is stored)`,
      ]);
    });

  withJson(keyOptions(merchant.command('rotate-key <merchantId>')
    .description(`give a merchant a new API key, printed once as \`create\` prints one; its other keys keep working for the grace period, then are refused (${NEEDS_STORE})`)
    .option('--grace <duration>', `how long its other keys keep working: 0 (at once) to ${showDuration(MAX_HOLD_WINDOW_MS)}, e.g. 90s, 15m, 24h`, showDuration(DEFAULT_GRACE_MS))),
    'print the new API key and when the others end as JSON')
    .action(async (idArg: string, opts: KeyOutput & { grace: string; fleetKeyFile?: string }) => {
      const id = checkedMerchantArg(idArg);
      const graceMs = parseDuration(opts.grace, '--grace', 0, MAX_HOLD_WINDOW_MS);
      keyTarget(opts);
      const now = Date.now();
      const made = makeKey(opts.fleetKeyFile, id, now);
      const othersEndAt = now + graceMs;
      const rotated = await withStore(globals(), 'merchants', (store) => store.merchants.rotateApiKey(made.record, othersEndAt));
      if (!rotated) throw new ScanpayError('MERCHANT_UNKNOWN', `${id}: \`scanpay merchant list\` lists the merchants`);
      await handOver(out, opts, made.key, { action: 'rotate-key', merchant: id, keyId: made.record.keyId, othersEndAt }, [
        `the new API key of merchant ${id}`,
        `merchant ${id}: new API key ${made.record.keyId}; its other keys ${graceMs === 0 ? 'are refused from now on' : `keep working until ${iso(othersEndAt)}`}`,
      ]);
    });

  withJson(merchant.command('list')
    .description(`the merchants, with their capture method (no keys: \`merchant show\` names them) (${NEEDS_STORE})`))
    .action(async (opts: { json?: boolean }) => {
      const merchants = await withStore(globals(), 'merchants', (store) => store.merchants.listMerchants());
      if (opts.json) return out.json({ merchants: merchants.map(merchantFields) });
      if (merchants.length === 0) out.line('no merchants (`scanpay merchant create <id>` registers one)');
      for (const m of merchants) {
        const hold = m.captureMethod === 'manual' ? ` (holds ${showDuration(m.holdWindowMs)})` : '';
        out.line(`${m.id.padEnd(16)}  capture ${`${m.captureMethod}${hold}`.padEnd(24)}  created ${iso(m.createdAt)}  ${m.name}`);
      }
    });

  withJson(merchant.command('show <merchantId>')
    .description(`one merchant: its capture method, its API keys by id (never a key) with when each ends, and the scanners bound to it (${NEEDS_STORE})`))
    .action(async (idArg: string, opts: { json?: boolean }) => {
      const id = checkedMerchantArg(idArg);
      const { record, keys, scanners } = await withStore(globals(), 'merchants', async (store: Store) => {
        const [record, keys, devices] = await Promise.all([store.merchants.getMerchant(id), store.merchants.apiKeys(id), store.listDevices()]);
        return { record, keys, scanners: devices.filter((d) => d.merchant === id).map((d) => d.deviceId) };
      });
      if (!record) throw new ScanpayError('MERCHANT_UNKNOWN', `${id}: \`scanpay merchant list\` lists the merchants`);
      const now = Date.now();
      if (opts.json) {
        return out.json({ ...merchantFields(record), apiKeys: keys.map((k) => ({ keyId: k.keyId, createdAt: k.createdAt, expiresAt: k.expiresAt })), scanners });
      }
      out.line(`merchant ${record.id} (${record.name})`);
      out.line(`  capture ${record.captureMethod}${record.captureMethod === 'manual' ? `, holds released after ${showDuration(record.holdWindowMs)}` : ''}; created ${iso(record.createdAt)}`);
      out.line(`  ${pinEntryText(record)}`);
      for (const k of keys) out.line(`  API key ${k.keyId}  made ${iso(k.createdAt)}  ${keyState(k, now)}`);
      out.line(`  scanners: ${scanners.length === 0 ? 'none bound (`scanpay scanner provision <device> --merchant ' + id + '`)' : scanners.join(', ')}`);
    });
}

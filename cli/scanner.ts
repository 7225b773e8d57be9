/**
 * `scanpay scanner …`: the scanner fleet. `provision <id>`: a device's secret, derived from the fleet key
 * (protocol/scanner-token.ts), on stdout alone (for a pipe) or written owner-only with `--out`, and recorded
 * in the store with `--record`; with `--merchant <id>` also bound to that registered merchant (recorded too):
 * its scans then take payments for that merchant only, and a binding is never moved; `list`: the devices the store records; `show <id>`: one of them, with its
 * wrong-PIN budget (PIN_LIMIT when spent); `revoke <id>`: every gateway sharing
 * the store refuses the device's tokens from then on. A revocation names a device the store knows (recorded,
 * revoked or connected once), so a mistyped id is refused, not silently "revoked".
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ScanpayError } from '../core/errors.ts';
import { DEFAULT_PIN_BUDGET, DEFAULT_PREFIX } from '../issuer/store/index.ts';
import type { DeviceBinding, Store } from '../issuer/store/types.ts';
import { loadFleetKey } from '../protocol/fleet-key.ts';
import { deviceSecret, isDeviceId } from '../protocol/scanner-token.ts';
import { openPersistentStore, redisPrefix, type GlobalOptions } from './context.ts';
import { usageError } from './errors.ts';
import { checkedMerchantArg } from './merchant.ts';
import { withJson, type Output } from './output.ts';
import { SECRET_FILE_MODE, checkSecretTarget, writeSecretFile } from './secret-file.ts';

const NEEDS_STORE = 'needs --redis, REDIS_URL or REDIS_CLUSTER_NODES';

function checkedDeviceId(deviceId: string): string {
  if (!isDeviceId(deviceId)) throw usageError('device id must be 1-64 of A-Z a-z 0-9 _ -');
  return deviceId;
}

async function withDeviceStore<T>(opts: GlobalOptions, body: (store: Store) => Promise<T>): Promise<T> {
  const store = await openPersistentStore(opts, 'scanners');
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

/**
 * Records the device and, with a merchant, binds it: the merchant must be registered (MERCHANT_UNKNOWN) and the
 * device not bound to another (MERCHANT_MISMATCH); both refusals come before anything is written.
 */
async function recordAndBind(store: Store, deviceId: string, merchant: string | undefined): Promise<{ recorded: boolean; binding?: DeviceBinding }> {
  if (merchant === undefined) return { recorded: await store.recordDevice(deviceId) };
  if (!(await store.merchants.getMerchant(merchant))) {
    throw new ScanpayError('MERCHANT_UNKNOWN', `${merchant}: register it first with \`scanpay merchant create ${merchant}\` (\`scanpay merchant list\` lists them)`);
  }
  const boundTo = (await store.getDevice(deviceId))?.merchant ?? null;
  if (boundTo !== null && boundTo !== merchant) throw boundElsewhere(deviceId, boundTo);
  const recorded = await store.recordDevice(deviceId);
  const binding = await store.bindDevice(deviceId, merchant);
  if (binding === 'bound-elsewhere') throw boundElsewhere(deviceId, (await store.getDevice(deviceId))?.merchant ?? '?'); // bound meanwhile
  return { recorded, binding };
}

function boundElsewhere(deviceId: string, boundTo: string): ScanpayError {
  return new ScanpayError('MERCHANT_MISMATCH', `${deviceId} is bound to merchant ${boundTo}, and a binding is never moved: provision a new device id for another merchant`);
}

const when = (at: number | null, none: string) => (at === null ? none : new Date(at).toISOString());

function wrongPinMax(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_PIN_BUDGET.device.max;
  if (!/^[0-9]{1,7}$/.test(raw) || Number(raw) < 1) throw usageError(`--wrong-pins must be a whole number from 1 (got "${raw.slice(0, 20)}")`);
  return Number(raw);
}

export function scannerCommand(program: Command, out: Output): void {
  const scanner = program.command('scanner').description('scanner fleet: device secrets and revocation');
  const globals = () => program.opts<GlobalOptions>();

  withJson(scanner.command('provision <deviceId>')
    .description("a device's secret (hex), derived from the fleet key: printed alone on stdout, or written to a 0600 file with --out; install it on that scanner only")
    .option('--fleet-key-file <file>', 'fleet key file, 64 hex digits (default: SCANPAY_FLEET_KEY_FILE, or SCANPAY_FLEET_KEY as hex)')
    .option('--out <file>', `write the secret to this file, mode ${SECRET_FILE_MODE}, instead of printing it (an existing file is refused)`)
    .option('--force', 'with --out: replace an existing file')
    .option('--record', `also record the device in the store, for \`scanner list\` and \`scanner revoke\` (${NEEDS_STORE})`)
    .option('--merchant <merchantId>', `bind the device to this registered merchant (\`scanpay merchant create\`): its scans take that merchant's payments only; implies --record (${NEEDS_STORE})`))
    .action(async (deviceIdArg: string, opts: { fleetKeyFile?: string; out?: string; force?: boolean; record?: boolean; merchant?: string; json?: boolean }) => {
      const deviceId = checkedDeviceId(deviceIdArg);
      const merchant = opts.merchant === undefined ? undefined : checkedMerchantArg(opts.merchant);
      if (opts.force && opts.out === undefined) throw usageError('--force replaces an --out file: pass --out FILE too');
      const file = opts.out === undefined ? undefined : resolve(opts.out);
      const target = { replace: Boolean(opts.force), how: 'remove it or pass another --out; --force replaces it' };
      // every check before anything is written: the target, then the fleet key
      const replaced = file ? checkSecretTarget(file, '--out', target) : false;
      const secret = Buffer.from(deviceSecret(loadFleetKey({ file: opts.fleetKeyFile }), deviceId)).toString('hex');
      const stored = opts.record || merchant !== undefined ? await withDeviceStore(globals(), (store) => recordAndBind(store, deviceId, merchant)) : undefined;
      const recorded = stored?.recorded;
      const recordFields = stored === undefined ? {} : { recorded: stored.recorded, ...(merchant === undefined ? {} : { merchant, bound: stored.binding === 'bound' }) };
      if (!file) {
        if (opts.json) out.json({ deviceId, secret, ...recordFields });
        else out.line(secret); // stdout is the secret alone, so a pipe (or `> file`) gets just it
        return;
      }
      await writeSecretFile(file, `${secret}\n`, target);
      if (opts.json) {
        out.json({ deviceId, wrote: file, mode: SECRET_FILE_MODE, replaced, ...recordFields });
        return;
      }
      out.line(`${replaced ? 'replaced' : 'wrote'} ${file} (mode ${SECRET_FILE_MODE}): the secret of scanner ${deviceId}`);
      if (recorded !== undefined) out.line(recorded ? `recorded scanner ${deviceId} in the store` : `scanner ${deviceId} was already recorded: nothing changed`);
      if (stored?.binding) out.line(stored.binding === 'bound' ? `bound scanner ${deviceId} to merchant ${merchant}: its scans take that merchant's payments only` : `scanner ${deviceId} was already bound to merchant ${merchant}: nothing changed`);
    });

  withJson(scanner.command('list')
    .description(`the devices the store records: provisioned with --record, and revoked, with when, and their last connection (${NEEDS_STORE})`))
    .action(async (opts: { json?: boolean }) => {
      const devices = await withDeviceStore(globals(), (store) => store.listDevices());
      if (opts.json) return out.json({ devices });
      if (devices.length === 0) out.line('no devices recorded (`scanner provision --record` records one)');
      for (const d of devices) {
        const status = d.revokedAt === null ? 'active' : `revoked ${when(d.revokedAt, '-')}`;
        out.line(`${d.deviceId.padEnd(24)} provisioned ${when(d.provisionedAt, '-').padEnd(24)}  connected ${when(d.lastConnectedAt, 'never').padEnd(24)}  ${status}${d.merchant === null ? '' : `  merchant ${d.merchant}`}`);
      }
    });

  withJson(scanner.command('show <deviceId>')
    .description(`one device: when it was provisioned, revoked and last connected, and its wrong-PIN budget now (${NEEDS_STORE})`)
    .option('--wrong-pins <n>', `the gateways' wrong-PIN budget per scanner (SCANPAY_DEVICE_WRONG_PINS; default ${DEFAULT_PIN_BUDGET.device.max})`))
    .action(async (deviceIdArg: string, opts: { wrongPins?: string; json?: boolean }) => {
      const deviceId = checkedDeviceId(deviceIdArg);
      const max = wrongPinMax(opts.wrongPins ?? process.env.SCANPAY_DEVICE_WRONG_PINS);
      const [device, window] = await withDeviceStore(globals(), (store) => Promise.all([store.getDevice(deviceId), store.wrongPinWindow('device', deviceId)]));
      if (!device && !window) {
        throw new ScanpayError('DEVICE_UNKNOWN', `${deviceId} was never recorded, revoked or connected, and has no wrong PINs counted`);
      }
      const used = window?.used ?? 0;
      const refusedUntil = window && used >= max ? window.endsAt : null;
      if (opts.json) {
        return out.json({
          deviceId, provisionedAt: device?.provisionedAt ?? null, revokedAt: device?.revokedAt ?? null, lastConnectedAt: device?.lastConnectedAt ?? null,
          merchant: device?.merchant ?? null,
          wrongPins: { used, max, windowEndsAt: window?.endsAt ?? null, refusedUntil },
        });
      }
      out.line(`scanner ${deviceId}: ${device?.revokedAt ? `revoked ${when(device.revokedAt, '-')}` : 'active'}`);
      out.line(`  provisioned ${when(device?.provisionedAt ?? null, '-')}, last connected ${when(device?.lastConnectedAt ?? null, 'never')}`);
      out.line(`  merchant: ${device?.merchant ?? 'none bound (it may name no registered merchant)'}`);
      out.line(`  wrong PINs this window: ${used} of ${max}${window ? ` (window ends ${when(window.endsAt, '-')})` : ''}`);
      if (refusedUntil !== null) out.line(`  its PINs are refused (PIN_LIMIT) until ${when(refusedUntil, '-')}`);
    });

  withJson(scanner.command('revoke <deviceId>')
    .description(`refuse every later connection of a device and close its open ones, on every gateway sharing the store (${NEEDS_STORE})`)
    .option('--force', 'revoke a device the store has never heard of (provisioned without --record and never connected)'))
    .action(async (deviceIdArg: string, opts: { force?: boolean; json?: boolean }) => {
      const deviceId = checkedDeviceId(deviceIdArg);
      const outcome = await withDeviceStore(globals(), async (store) => {
        const revocation = await store.revokeDevice(deviceId, { evenIfUnknown: Boolean(opts.force) });
        if (revocation === 'unknown') {
          const prefix = JSON.stringify(redisPrefix(globals()) ?? DEFAULT_PREFIX);
          throw new ScanpayError('DEVICE_UNKNOWN', `${deviceId} was never recorded, revoked or connected on ${store.description} (prefix ${prefix}):`
            + ' check the id and --prefix, or pass --force to revoke a device provisioned without --record that never connected');
        }
        return revocation;
      });
      const changed = outcome === 'revoked';
      if (opts.json) out.json({ action: 'revoke', deviceId, changed: changed ? ['revoked'] : [] });
      else if (changed) out.line(`revoked scanner ${deviceId}: its tokens are refused and its open connections closed, on every gateway sharing the store`);
      else out.line(`scanner ${deviceId} was already revoked: nothing changed`);
    });
}

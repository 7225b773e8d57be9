/**
 * `scanpay fleet-key generate`: the scanner fleet key file (protocol/fleet-key.ts), 64 hex digits, mode
 * 0600. The gateway reads it through SCANPAY_FLEET_KEY_FILE; `scanpay scanner provision` derives each
 * device's secret from it. The key itself is never printed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ScanpayError } from '../core/errors.ts';
import { FLEET_KEY_BYTES } from '../protocol/fleet-key.ts';
import { usageError } from './errors.ts';
import { withJson, type Output } from './output.ts';

export const DEFAULT_FLEET_KEY_FILE = 'scanpay-fleet.key';

/** Writes `text` to `file` atomically, owner-only: a fresh temp file (never an existing one or a symlink), then rename. */
async function writeSecretFile(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

export function fleetKeyCommand(program: Command, out: Output): void {
  const fleetKey = program.command('fleet-key').description('the scanner fleet key: every device secret derives from it');

  withJson(fleetKey.command('generate')
    .description('write a new fleet key file (64 hex digits, mode 0600); the key is never printed')
    .option('--file <file>', `where to write it (default: SCANPAY_FLEET_KEY_FILE or ./${DEFAULT_FLEET_KEY_FILE})`)
    .option('--force', 'replace an existing file (every provisioned scanner secret stops working)'))
    .action(async (opts: { file?: string; force?: boolean; json?: boolean }) => {
      const file = resolve(opts.file ?? process.env.SCANPAY_FLEET_KEY_FILE ?? DEFAULT_FLEET_KEY_FILE);
      const replaced = existsSync(file);
      if (replaced && !statSync(file).isFile()) throw usageError(`--file ${file} exists and is not a file`);
      if (replaced && !opts.force) throw new ScanpayError('BAD_ARGUMENT', `${file} exists; pass --force to replace it (provisioned scanners would need new secrets)`);
      await writeSecretFile(file, `${randomBytes(FLEET_KEY_BYTES).toString('hex')}\n`);
      if (opts.json) {
        out.json({ wrote: file, mode: '0600', replaced });
        return;
      }
      out.line(`${replaced ? 'replaced' : 'wrote'} ${file} (mode 0600): a new scanner fleet key`);
      out.line(`gateway:  SCANPAY_FLEET_KEY_FILE=${file} npm start`);
      out.line(`scanners: scanpay scanner provision <device-id> --fleet-key-file ${file}`);
    });
}

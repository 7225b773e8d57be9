/**
 * `scanpay fleet-key generate`: the scanner fleet key file (protocol/fleet-key.ts), 64 hex digits, mode
 * 0600. The gateway reads it through SCANPAY_FLEET_KEY_FILE; `scanpay scanner provision` derives each
 * device's secret from it. The key itself is never printed.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FLEET_KEY_BYTES } from '../protocol/fleet-key.ts';
import { withJson, type Output } from './output.ts';
import { SECRET_FILE_MODE, checkSecretTarget, writeSecretFile } from './secret-file.ts';

export const DEFAULT_FLEET_KEY_FILE = 'scanpay-fleet.key';

export function fleetKeyCommand(program: Command, out: Output): void {
  const fleetKey = program.command('fleet-key').description('the scanner fleet key: every device secret derives from it');

  withJson(fleetKey.command('generate')
    .description('write a new fleet key file (64 hex digits, mode 0600); the key is never printed')
    .option('--file <file>', `where to write it (default: SCANPAY_FLEET_KEY_FILE or ./${DEFAULT_FLEET_KEY_FILE})`)
    .option('--force', 'replace an existing file (every provisioned scanner secret stops working)'))
    .action(async (opts: { file?: string; force?: boolean; json?: boolean }) => {
      const file = resolve(opts.file ?? process.env.SCANPAY_FLEET_KEY_FILE ?? DEFAULT_FLEET_KEY_FILE);
      const target = {
        replace: Boolean(opts.force),
        how: 'remove it or pass --file with another path; --force replaces it (every provisioned scanner then needs a new secret)',
      };
      const replaced = checkSecretTarget(file, '--file', target);
      await writeSecretFile(file, `${randomBytes(FLEET_KEY_BYTES).toString('hex')}\n`, target);
      if (opts.json) {
        out.json({ wrote: file, mode: SECRET_FILE_MODE, replaced });
        return;
      }
      out.line(`${replaced ? 'replaced' : 'wrote'} ${file} (mode ${SECRET_FILE_MODE}): a new scanner fleet key`);
      out.line(`gateway:  SCANPAY_FLEET_KEY_FILE=${file} npm start`);
      out.line(`scanners: scanpay scanner provision <device-id> --fleet-key-file ${file}`);
    });
}

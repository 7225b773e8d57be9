/** `scanpay keys …`: the issuer key ring file. Prints ids and states, never key bytes. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ScanpayError } from '../core/errors.ts';
import { IssuerKeyRing, type IssuerKeyInfo } from '../issuer/key-ring.ts';
import { keyRingPath, loadKeyRing, type GlobalOptions } from './context.ts';
import { parseInteger, type Output } from './output.ts';

function printKeys(out: Output, keys: IssuerKeyInfo[], json: boolean): void {
  if (json) out.json({ issuerKeys: keys });
  else for (const k of keys) out.line(`${String(k.id).padStart(5)}  ${k.state.padEnd(12)}  ${k.createdAt}`);
}

export function keysCommand(program: Command, out: Output): void {
  const keys = program.command('keys').description('manage the issuer key ring file (ids and states only are ever printed)');
  const globals = () => program.opts<GlobalOptions>();

  keys.command('generate')
    .description('write a new key ring: one active issuer key and a storage key')
    .option('--force', 'overwrite an existing key ring file (every card issued under it becomes unreadable)')
    .action(async (opts: { force?: boolean }) => {
      const file = keyRingPath(globals());
      if (existsSync(file) && !opts.force) throw new ScanpayError('BAD_ARGUMENT', `${file} exists; pass --force to replace it`);
      const ring = IssuerKeyRing.generate();
      await ring.save(file);
      out.line(`wrote ${file} (mode 0600)`);
      printKeys(out, ring.list(), false);
    });

  keys.command('rotate')
    .description('add a new active issuer key; the previous one becomes decrypt-only')
    .action(async () => {
      const ring = await loadKeyRing(globals());
      const id = ring.rotate();
      await ring.save(keyRingPath(globals()));
      out.line(`key ${id} is now active`);
      printKeys(out, ring.list(), false);
    });

  keys.command('retire <id>')
    .description('retire a decrypt-only key: payloads sealed under it become illegal')
    .action(async (id: string) => {
      const ring = await loadKeyRing(globals());
      ring.retire(parseInteger(id, 'id', 1, 0xffff));
      await ring.save(keyRingPath(globals()));
      printKeys(out, ring.list(), false);
    });

  keys.command('list')
    .description('list issuer key ids and states')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      printKeys(out, (await loadKeyRing(globals())).list(), Boolean(opts.json));
    });
}

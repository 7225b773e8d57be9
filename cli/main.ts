/**
 * The `scanpay` CLI for operators. Exit codes: 0 done, 1 the operation failed (one line on stderr,
 * nothing half-written), 2 bad usage.
 */
import { Command, CommanderError } from 'commander';
import { isScanpayError } from '../core/errors.ts';
import { cardCommand } from './card.ts';
import { keysCommand } from './keys.ts';
import { scanCommand } from './scan.ts';
import { consoleOutput, type Output } from './output.ts';

export function buildProgram(out: Output): Command {
  const program = new Command('scanpay')
    .description('scanpay operator CLI: issuer keys and cards')
    .option('--redis <url>', 'Redis store URL (default: REDIS_URL)')
    .option('--prefix <prefix>', 'Redis key prefix (default: scanpay:)')
    .option('--keyring <file>', 'issuer key ring file (default: SCANPAY_KEYRING_FILE or ./scanpay-keyring.json)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.line(s.trimEnd()), writeErr: (s) => out.error(s.trimEnd()) });
  keysCommand(program, out);
  cardCommand(program, out);
  scanCommand(program, out);
  for (const sub of program.commands) sub.exitOverride();
  return program;
}

export async function main(argv: readonly string[], out: Output = consoleOutput): Promise<number> {
  try {
    await buildProgram(out).parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander printed the message
    if (isScanpayError(e)) {
      out.error(`scanpay: ${e.message} [${e.code}]`);
      return 1;
    }
    out.error(`scanpay: ${(e as Error)?.message ?? String(e)}`);
    return 1;
  }
}

/**
 * The CLI's one error convention: every failure is one line `scanpay: <message> [CODE]` on stderr, and the
 * exit code says what kind of failure it was. CODE is a core error code (core/errors.ts), a scanner
 * protocol code (sdk), a payment's decline reason, or one of the two CLI codes below.
 * @example
 *   throw usageError('--amount must be positive (≥ 1)');   // scanpay: --amount must be positive (≥ 1) [USAGE], exit 2
 */
import { CommanderError } from 'commander';
import { ScanpayBaseError, isScanpayBaseError, isScanpayError } from '../core/errors.ts';

export const EXIT = {
  /** Done (a payment: approved). */
  OK: 0,
  /** Understood and refused or declined: by the issuer, the store, the key ring, the gateway or the card. */
  REFUSED: 1,
  /** The command line is wrong: fix it and run again. Nothing was done. */
  USAGE: 2,
} as const;

/**
 * CLI codes, all exit 2: USAGE (a bad command line), NO_SUCH_FILE (a file argument that names nothing),
 * FILE_EXISTS (a file a command would write is there already, and it was not told to replace it),
 * ENROLMENT_UNKNOWN (a wallet enrolment id the store never had: a typo, or another store).
 */
export type CliCode = 'USAGE' | 'NO_SUCH_FILE' | 'FILE_EXISTS' | 'ENROLMENT_UNKNOWN';

/** A failure the CLI itself reports: a CliCode, or a payment's decline reason (`declined`); with its exit code. */
export class CliError extends ScanpayBaseError {
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode: number) {
    super('cli', code, message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function usageError(message: string): CliError {
  return new CliError('USAGE' satisfies CliCode, message, EXIT.USAGE);
}

export function noSuchFile(path: string, also = ''): CliError {
  return new CliError('NO_SUCH_FILE' satisfies CliCode, `no such file: ${path}${also}`, EXIT.USAGE);
}

/** An enrolment id the store does not know: nothing was changed. */
export function unknownEnrolment(id: string): CliError {
  return new CliError('ENROLMENT_UNKNOWN' satisfies CliCode, `no wallet enrolment ${id} in this store (\`scanpay card wallets <card>\` lists a card's)`, EXIT.USAGE);
}

/** `path` exists and the command will not replace it: `how` says how to proceed (remove it, another path, --force). */
export function fileExists(path: string, how: string): CliError {
  return new CliError('FILE_EXISTS' satisfies CliCode, `${path} exists: ${how}`, EXIT.USAGE);
}

/** A payment the gateway answered with a decline: exit 1, the decline reason as the code. */
export function declined(reason: string | null, detail = ''): CliError {
  return new CliError(reason ?? 'DECLINED', `payment declined${detail}`, EXIT.REFUSED);
}

/** Runs one of the issuer's own input checks at the CLI boundary; its failure is bad usage, told in option terms. */
export function asUsage<T>(check: () => T, message: string): T {
  try {
    return check();
  } catch (e) {
    if (isScanpayError(e)) throw usageError(message);
    throw e;
  }
}

/** A command that takes a subcommand, given none: one line naming them and the help that describes them. */
export function missingCommand(path: string, subcommands: readonly string[]): CliError {
  return usageError(`missing command: ${path} takes one of ${subcommands.join(', ')}; \`${path} --help\` describes them`);
}

/** The stderr line and exit code for anything a command threw. */
export function describeFailure(e: unknown): { line: string; exitCode: number } {
  const line = (message: string, code: string) => `scanpay: ${message.replace(/\s*\n\s*/g, ' ')} [${code}]`;
  if (e instanceof CommanderError) {
    // commander's own usage errors ("error: unknown option '--x'"); a missing command is a CliError (cli/main.ts)
    return { line: line(e.message.replace(/^error: /, ''), 'USAGE'), exitCode: EXIT.USAGE };
  }
  if (e instanceof CliError) return { line: line(e.message, e.code), exitCode: e.exitCode };
  // a core, issuer, store or protocol code (ScanpayError), or one the gateway or the SDK gave (ScannerError)
  if (isScanpayBaseError(e)) return { line: line(e.message, e.code), exitCode: EXIT.REFUSED };
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return { line: line(message, typeof errno === 'string' ? errno : 'INTERNAL'), exitCode: EXIT.REFUSED };
}

/** The exit-code and error-format section of `scanpay --help`, and of the README's CLI section. */
export const EXIT_HELP = `
Errors: one line on stderr, \`scanpay: <message> [CODE]\`; nothing is half-done.
Exit codes:
  0  done (for \`scan\`: the payment was approved)
  1  refused or declined: by the issuer, the store, the key ring, the gateway or the card [a core
     or protocol code, e.g. CARD_BLOCKED, UNAUTHORIZED, or the decline reason, e.g. PIN_WRONG]
  2  bad usage: the command line is wrong and nothing was done [USAGE, NO_SUCH_FILE, FILE_EXISTS,
     ENROLMENT_UNKNOWN]`;

/**
 * Structured logs (pino). The flow only ever logs masked PANs; as a second line of defence any field
 * named like a secret is censored wherever it appears. JSON lines, one per event, unless stdout is a
 * terminal: then pino-pretty prints them for a person (same fields, same redaction, in this thread).
 * JSON lines go out through an asynchronous SonicBoom on fd 1, so a slow log reader never blocks the event
 * loop; `logger.flush()` before exiting (gateway/main.ts does) writes what is still buffered.
 */
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { ScanpayError } from '../core/errors.ts';

/**
 * What the gateway logs through (GatewayOptions.logger): a pino Logger is one, and so is any logger with these
 * methods. Declared here so that the package's public declarations name no pino type.
 */
export interface GatewayLogger {
  debug(event: Record<string, unknown>, message: string): void;
  info(event: Record<string, unknown>, message: string): void;
  warn(event: Record<string, unknown>, message: string): void;
  error(event: Record<string, unknown>, message: string): void;
}

/** What createLogger makes: a GatewayLogger that can also write out what it has buffered (before an exit). */
export interface ScanpayLogger extends GatewayLogger {
  flush(done?: (err?: Error) => void): void;
}

const SECRET_FIELDS = ['pan', 'pin', 'payload', 'basicKey', 'kek', 'key', 'secret', 'token', 'storageKey', 'pvv'];

/** pino's levels, most severe first; `silent` logs nothing. LOG_LEVEL and createLogger's `level` take one of them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(level: unknown): level is LogLevel {
  return typeof level === 'string' && (LOG_LEVELS as readonly string[]).includes(level);
}

/**
 * `level`: one of LOG_LEVELS; default LOG_LEVEL from the environment, else `info`. Any other level throws
 * BAD_ARGUMENT (`npm start` reports a bad LOG_LEVEL as a CONFIG line before it gets here).
 * @example
 *   const log = createLogger();                         // JSON on stdout; pretty when stdout is a TTY
 *   const quiet = createLogger({ level: 'silent' });
 */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream; pretty?: boolean } = {}): ScanpayLogger {
  const level = opts.level ?? (process.env.LOG_LEVEL || 'info');
  if (!isLogLevel(level)) {
    const source = opts.level === undefined ? 'LOG_LEVEL' : 'the log level';
    throw new ScanpayError('BAD_ARGUMENT', `${source} must be one of ${LOG_LEVELS.join(', ')} (got "${String(level).slice(0, 20)}")`);
  }
  const human = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const destination = opts.destination ?? (human
    ? pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', destination: 1 })
    : pino.destination({ dest: 1, sync: false }));
  return pino(
    {
      name: 'scanpay',
      level,
      redact: { paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`)], censor: '[redacted]' },
    },
    destination,
  );
}

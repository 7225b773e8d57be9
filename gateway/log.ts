/**
 * Structured logs (pino). The flow only ever logs masked PANs; as a second line of defence any field
 * named like a secret is censored wherever it appears. JSON lines, one per event, unless stdout is a
 * terminal: then pino-pretty prints them for a person (same fields, same redaction, in this thread).
 * JSON lines go out through an asynchronous SonicBoom on fd 1, so a slow log reader never blocks the event
 * loop; `logger.flush()` before exiting (gateway/main.ts does) writes what is still buffered.
 */
import { pino } from 'pino';
import pretty from 'pino-pretty';

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

/**
 * @example
 *   const log = createLogger();                         // JSON on stdout; pretty when stdout is a TTY
 *   const quiet = createLogger({ level: 'silent' });
 */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream; pretty?: boolean } = {}): ScanpayLogger {
  const human = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const destination = opts.destination ?? (human
    ? pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', destination: 1 })
    : pino.destination({ dest: 1, sync: false }));
  return pino(
    {
      name: 'scanpay',
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`)], censor: '[redacted]' },
    },
    destination,
  );
}

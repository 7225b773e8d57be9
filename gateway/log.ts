/**
 * Structured logs (pino). The flow only ever logs masked PANs; as a second line of defence any field
 * named like a secret is censored wherever it appears.
 */
import { pino, type Logger } from 'pino';

const SECRET_FIELDS = ['pan', 'pin', 'payload', 'basicKey', 'kek', 'key', 'secret', 'token', 'storageKey', 'pvv'];

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: 'scanpay',
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`)], censor: '[redacted]' },
    },
    opts.destination ?? process.stdout,
  );
}

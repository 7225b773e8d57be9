/**
 * Reading the holder's PIN without it ever being shown or kept: a muted terminal prompt (readline with
 * its echo swallowed and no history), or the first line of piped stdin.
 */
import { createInterface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import { ScanpayError } from '../core/errors.ts';

const MAX_LINE = 64;

/** Prompts on `output` and reads one line from the terminal `input` without echoing what is typed. */
export function promptHidden(question: string, input: Readable = process.stdin, output: NodeJS.WritableStream = process.stderr): Promise<string> {
  let muted = false;
  const sink = new Writable({
    write(chunk, encoding, done) {
      if (!muted) output.write(chunk, encoding);
      done();
    },
  });
  const rl = createInterface({ input, output: sink, terminal: true, historySize: 0 });
  return new Promise((resolve, reject) => {
    rl.on('SIGINT', () => {
      rl.close();
      output.write('\n');
      reject(new ScanpayError('BAD_ARGUMENT', 'PIN entry cancelled'));
    });
    rl.question(question, (answer) => {
      rl.close();
      output.write('\n');
      resolve(answer);
    });
    muted = true; // the prompt is out; from here on readline's echo of the keys goes nowhere
  });
}

/** The first line of `input` (for `--pin-stdin`), without its line ending; at most 64 characters are read. */
export async function readFirstLine(input: Readable): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    const end = text.indexOf('\n');
    if (end >= 0) return text.slice(0, end).replace(/\r$/, '');
    if (text.length > MAX_LINE) throw new ScanpayError('PIN_FORMAT', 'the first line of stdin is too long');
  }
  return text.replace(/\r$/, '');
}

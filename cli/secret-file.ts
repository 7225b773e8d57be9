/**
 * Files that hold a secret (the fleet key, a device secret): written owner-only (mode 0600) and atomically,
 * through a fresh temp file (never an existing file or a symlink), and never over an existing file unless
 * the operator said so (--force).
 * @example
 *   refuseExisting(file, 'remove it, or pass --force to replace it');      // FILE_EXISTS, exit 2, before any work
 *   await writeSecretFile(file, `${hex}\n`, { replace: false });
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { link, rename, rm, writeFile } from 'node:fs/promises';
import { fileExists, usageError } from './errors.ts';

/** The mode every secret file gets, as the CLI prints it. */
export const SECRET_FILE_MODE = '0600';

/**
 * Checks a target before anything is done: a directory (or other non-file) is bad usage, an existing file
 * is FILE_EXISTS unless `replace`. True when a file is there (and will be replaced).
 */
export function checkSecretTarget(file: string, flag: string, { replace, how }: { replace: boolean; how: string }): boolean {
  if (!existsSync(file)) return false;
  if (!statSync(file).isFile()) throw usageError(`${flag} ${file} exists and is not a file`);
  if (!replace) throw fileExists(file, how);
  return true;
}

/**
 * Writes `text` to `file` with mode 0600: a temp file beside it, then rename (`replace`) or link, which
 * fails if the file appeared meanwhile (FILE_EXISTS): an existing file is never overwritten by accident.
 */
export async function writeSecretFile(file: string, text: string, { replace, how }: { replace: boolean; how: string }): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
    if (replace) {
      await rename(temp, file);
      return;
    }
    try {
      await link(temp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw fileExists(file, how);
      throw e;
    }
  } finally {
    await rm(temp, { force: true });
  }
}

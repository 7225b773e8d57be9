/**
 * Where a benchmark's figures come from, recorded with them: the machine (CPU, cores, Node, OS) and the code
 * (the commit, the last commit that changed what a gateway runs, and whether that has uncommitted changes).
 * @example
 *   writeFileSync(file, JSON.stringify({ machine: machine(), ...codeProvenance(), rows }));
 */
import { spawnSync } from 'node:child_process';
import { arch, cpus, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  os: string;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
  };
}

export interface Provenance {
  commit: string | null; // HEAD
  codeCommit: string | null; // the last commit that changed the gateway's code (CODE_PATHS): what was measured
  dirty: boolean; // uncommitted changes there
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const git = (...args: string[]): string | null => {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};

/** What a gateway process runs: its sources, the WASM core's, and the dependencies. */
const CODE_PATHS = ['gateway', 'issuer', 'core', 'protocol', 'assembly', 'asconfig.json', 'package.json', 'package-lock.json'];

export function codeProvenance(): Provenance {
  const code = ['--', ...CODE_PATHS];
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    codeCommit: git('log', '-1', '--format=%h', ...code),
    dirty: (git('status', '--porcelain', ...code) ?? '') !== '',
  };
}

/**
 * `npm start`'s configuration (gateway/config.ts): every bad value is named on one line and nothing starts;
 * the combinations that would silently misbehave are refused with what to run instead.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, readStartConfig } from '../../gateway/config.ts';
import { DEFAULT_PAGE_LIMITS } from '../../gateway/http/auth-routes.ts';
import { DEFAULT_BATCH } from '../../gateway/server.ts';

const defaults = { batch: DEFAULT_BATCH, pageRate: DEFAULT_PAGE_LIMITS.perAddress };
const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    readStartConfig(env, [], defaults);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
};

describe('start configuration', () => {
  it('defaults to the embedded demo on loopback', () => {
    expect(readStartConfig({}, [], defaults)).toMatchObject({
      host: '127.0.0.1', port: 8080, opsHost: '127.0.0.1', opsPort: 9090, demo: true, redisUrl: undefined, baseline: false,
      rate: { perSecond: 20, burst: 40 }, maxConnectionAgeS: 3600,
    });
    expect(readStartConfig({ SCANPAY_MAX_CONNECTION_AGE_S: '90' }, [], defaults).maxConnectionAgeS).toBe(90);
  });

  it.each([
    ['PORT=abc', { PORT: 'abc' }, /^PORT must be a whole number from 0 to 65535 \(got "abc"\)$/],
    ['PORT=70000', { PORT: '70000' }, /^PORT must be/],
    ['OPS_PORT=-1', { OPS_PORT: '-1' }, /^OPS_PORT must be/],
    ['SCANPAY_THREADS=0', { SCANPAY_THREADS: '0' }, /^SCANPAY_THREADS must be/],
    ['SCANPAY_RATE_PER_SEC=fast', { SCANPAY_RATE_PER_SEC: 'fast' }, /^SCANPAY_RATE_PER_SEC must be/],
    ['SCANPAY_MAX_CONNECTION_AGE_S=0', { SCANPAY_MAX_CONNECTION_AGE_S: '0' }, /^SCANPAY_MAX_CONNECTION_AGE_S must be a whole number from 10 to 604800 \(got "0"\)$/],
    ['SCANPAY_MAX_CONNECTION_AGE_S=1h', { SCANPAY_MAX_CONNECTION_AGE_S: '1h' }, /^SCANPAY_MAX_CONNECTION_AGE_S must be/],
    ['HOST=0.0.0.0 without PUBLIC_URL', { HOST: '0.0.0.0' }, /set PUBLIC_URL/],
    ['PUBLIC_URL not a URL', { PUBLIC_URL: 'pay.example.com' }, /^PUBLIC_URL must be a URL/],
    ['one TLS file only', { TLS_CERT_FILE: 'cert.pem' }, /both TLS_CERT_FILE and TLS_KEY_FILE/],
    ['REDIS_URL without a key ring', { REDIS_URL: 'redis://127.0.0.1:6379', SCANPAY_FLEET_KEY_FILE: 'f' }, /scanpay keys generate/],
    ['REDIS_URL without a fleet key', { REDIS_URL: 'redis://127.0.0.1:6379', SCANPAY_KEYRING_FILE: 'k' }, /scanpay fleet-key generate/],
  ])('refuses %s with one line naming it', (_, env, message) => {
    const problems = problemsOf(env as NodeJS.ProcessEnv);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('reports every bad value at once', () => {
    expect(problemsOf({ PORT: 'x', OPS_PORT: 'y', REDIS_URL: 'redis://h' })).toHaveLength(4);
  });

  it('accepts a real deployment: Redis, key ring, fleet key, public URL, TLS', () => {
    expect(readStartConfig({
      HOST: '0.0.0.0', PORT: '8443', PUBLIC_URL: 'https://pay.example.com', REDIS_URL: 'redis://r:6379', SCANPAY_KEYRING_FILE: 'k',
      SCANPAY_FLEET_KEY_FILE: 'f', TLS_CERT_FILE: 'c', TLS_KEY_FILE: 'k2',
    }, [], defaults)).toMatchObject({ demo: false, port: 8443, tls: { certFile: 'c', keyFile: 'k2' }, publicUrl: 'https://pay.example.com' });
  });

  it('--processes N (or SCANPAY_PROCESSES) over Redis; refused on the embedded store; a group\'s process runs one', () => {
    const redis = { REDIS_URL: 'redis://r:6379', SCANPAY_KEYRING_FILE: 'k', SCANPAY_FLEET_KEY_FILE: 'f' };
    expect(readStartConfig(redis, ['--processes', '3'], defaults)).toMatchObject({ processes: 3, group: null });
    expect(readStartConfig(redis, ['--processes=2'], defaults).processes).toBe(2);
    expect(readStartConfig({ ...redis, SCANPAY_PROCESSES: '4' }, [], defaults).processes).toBe(4);
    expect(readStartConfig({ ...redis, SCANPAY_PROCESSES: '4', SCANPAY_PROCESS_GROUP: '1/4' }, [], defaults)).toMatchObject({ processes: 1, group: { index: 1, size: 4 } });
    expect(readStartConfig({}, [], defaults)).toMatchObject({ processes: 1, group: null });
    expect(problemsOf({ SCANPAY_PROCESSES: '2' })).toEqual([expect.stringContaining('needs REDIS_URL or REDIS_CLUSTER_NODES')]);
    expect(problemsOf({ ...redis, SCANPAY_PROCESSES: '0' })).toEqual([expect.stringContaining('from 1 to 256')]);
    expect(problemsOf({ ...redis, SCANPAY_PROCESS_GROUP: '2/2' })).toEqual([expect.stringContaining('do not set it by hand')]);
  });

  it('npm start\'s entry exits 2 with `scanpay: … [CONFIG]` lines and starts nothing', () => {
    const main = fileURLToPath(new URL('../../gateway/main.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH, PORT: 'abc', REDIS_URL: 'redis://127.0.0.1:1' }, encoding: 'utf8', timeout: 30_000,
    });
    expect(run.status).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^scanpay: .+ \[CONFIG\]$/);
    expect(run.stdout).toBe('');
  });
});

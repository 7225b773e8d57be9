/**
 * `npm start`'s configuration (gateway/config.ts): every bad value is named on one line and nothing starts;
 * the combinations that would silently misbehave are refused with what to run instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, readStartConfig } from '../../gateway/config.ts';
import { startOptions } from '../../gateway/start-options.ts';
import { IssuerKeyRing } from '../../issuer/key-ring.ts';

const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    readStartConfig(env, []);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
};

/** Real files for the variables that name one: a key ring, a fleet key, a certificate with its key, and a spare key. */
const dir = mkdtempSync(join(tmpdir(), 'scanpay-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keyRing = IssuerKeyRing.generate();
const files = {
  keyRing: join(dir, 'keyring.json'), fleetKey: join(dir, 'fleet.key'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'),
  otherKey: join(dir, 'other-key.pem'), aFile: join(dir, 'a-file'), missing: join(dir, 'missing.pem'),
};
writeFileSync(files.keyRing, keyRing.serialize());
const fleetKeyHex = randomBytes(32).toString('hex');
writeFileSync(files.fleetKey, `${fleetKeyHex}\n`);
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
  '-subj', '/CN=127.0.0.1', '-keyout', files.key, '-out', files.cert], { stdio: 'ignore' });
execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', files.otherKey], { stdio: 'ignore' });
writeFileSync(files.aFile, 'not a folder\n');
/** What a Redis deployment needs besides the Redis itself. */
const keys = { SCANPAY_KEYRING_FILE: files.keyRing, SCANPAY_FLEET_KEY_FILE: files.fleetKey };
const onRedis = { REDIS_URL: 'redis://127.0.0.1:6379', ...keys };

describe('start configuration', () => {
  it('defaults to the embedded demo on loopback', () => {
    expect(readStartConfig({}, [])).toMatchObject({
      host: '127.0.0.1', port: 8080, opsHost: '127.0.0.1', opsPort: 9090, merchantHost: '127.0.0.1', merchantPort: 8081, demo: true, redisUrl: undefined,
      rate: { perSecond: 20, burst: 40 }, maxConnectionAgeS: 3600,
    });
    expect(readStartConfig({ SCANPAY_MAX_CONNECTION_AGE_S: '90' }, []).maxConnectionAgeS).toBe(90);
  });

  it('reads the sealer and webhook settings, and maps them to the gateway', () => {
    expect(readStartConfig({}, [])).toMatchObject({
      sealerIntervalMs: 1_000,
      webhooks: { intervalMs: 1_000, retryScheduleMs: [60_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000], timeoutMs: 10_000, maxConcurrent: 32, allowPrivate: false },
    });
    const set = readStartConfig({
      SCANPAY_SEALER_INTERVAL_MS: '200', SCANPAY_WEBHOOK_INTERVAL_MS: '250', SCANPAY_WEBHOOK_RETRY_MS: '100,200,400', SCANPAY_WEBHOOK_TIMEOUT_MS: '2000',
      SCANPAY_WEBHOOK_CONCURRENCY: '4', SCANPAY_WEBHOOK_ALLOW_PRIVATE: '1',
    }, []);
    const webhooks = { intervalMs: 250, retryScheduleMs: [100, 200, 400], timeoutMs: 2_000, maxConcurrent: 4, allowPrivate: true };
    expect(set).toMatchObject({ sealerIntervalMs: 200, webhooks });
    expect(startOptions(set)).toMatchObject({ sealerIntervalMs: 200, webhooks });
    expect(problemsOf({ SCANPAY_SEALER_INTERVAL_MS: '0', SCANPAY_WEBHOOK_RETRY_MS: '100,,200', SCANPAY_WEBHOOK_CONCURRENCY: 'lots', SCANPAY_WEBHOOK_ALLOW_PRIVATE: 'yes' })).toEqual([
      'SCANPAY_SEALER_INTERVAL_MS must be a whole number from 50 to 60000 (got "0")',
      'SCANPAY_WEBHOOK_RETRY_MS must be 1 to 32 comma-separated delays in ms, each from 1 to 604800000 (got "100,,200")',
      'SCANPAY_WEBHOOK_CONCURRENCY must be a whole number from 1 to 1024 (got "lots")',
      'SCANPAY_WEBHOOK_ALLOW_PRIVATE must be 1, or unset (got "yes")',
    ]);
  });

  it.each([
    ['PORT=abc', { PORT: 'abc' }, /^PORT must be a whole number from 0 to 65535 \(got "abc"\)$/],
    ['PORT=70000', { PORT: '70000' }, /^PORT must be/],
    ['OPS_PORT=-1', { OPS_PORT: '-1' }, /^OPS_PORT must be/],
    ['MERCHANT_PORT=65536', { MERCHANT_PORT: '65536' }, /^MERCHANT_PORT must be a whole number from 0 to 65535 \(got "65536"\)$/],
    ['MERCHANT_PORT=http', { MERCHANT_PORT: 'http' }, /^MERCHANT_PORT must be a whole number/],
    ['MERCHANT_HOST=[::1]', { MERCHANT_HOST: '[::1]' }, /^MERCHANT_HOST must be an IP address \(IPv6 without brackets, e\.g\. ::1\) or a host name \(got "\[::1\]"\)$/],
    ['MERCHANT_HOST=bad_name', { MERCHANT_HOST: 'bad_name' }, /^MERCHANT_HOST must be an IP address/],
    ['SCANPAY_THREADS=0', { SCANPAY_THREADS: '0' }, /^SCANPAY_THREADS must be/],
    ['SCANPAY_RATE_PER_SEC=fast', { SCANPAY_RATE_PER_SEC: 'fast' }, /^SCANPAY_RATE_PER_SEC must be/],
    ['SCANPAY_MAX_CONNECTION_AGE_S=0', { SCANPAY_MAX_CONNECTION_AGE_S: '0' }, /^SCANPAY_MAX_CONNECTION_AGE_S must be a whole number from 10 to 604800 \(got "0"\)$/],
    ['SCANPAY_MAX_CONNECTION_AGE_S=1h', { SCANPAY_MAX_CONNECTION_AGE_S: '1h' }, /^SCANPAY_MAX_CONNECTION_AGE_S must be/],
    ['HOST=0.0.0.0 without PUBLIC_URL', { HOST: '0.0.0.0' }, /set PUBLIC_URL/],
    ['PUBLIC_URL not a URL', { PUBLIC_URL: 'pay.example.com' }, /^PUBLIC_URL must be a URL/],
    ['one TLS file only', { TLS_CERT_FILE: 'cert.pem' }, /both TLS_CERT_FILE and TLS_KEY_FILE/],
    ['REDIS_URL without a key ring', { REDIS_URL: 'redis://127.0.0.1:6379', SCANPAY_FLEET_KEY_FILE: files.fleetKey }, /scanpay keys generate/],
    ['REDIS_URL without a fleet key', { REDIS_URL: 'redis://127.0.0.1:6379', SCANPAY_KEYRING_FILE: files.keyRing }, /scanpay fleet-key generate/],
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)$/],
    ['LOG_LEVEL=INFO (pino\'s levels are lower case)', { LOG_LEVEL: 'INFO' }, /^LOG_LEVEL must be one of/],
    ['HOST=[::1] (uWS takes IPv6 without brackets)', { HOST: '[::1]' }, /^HOST must be an IP address \(IPv6 without brackets, e\.g\. ::1\) or a host name \(got "\[::1\]"\)$/],
    ['HOST with a space', { HOST: ' 127.0.0.1' }, /^HOST must be an IP address/],
    ['OPS_HOST=bad_name', { OPS_HOST: 'bad_name' }, /^OPS_HOST must be an IP address/],
    ['HOST=:: without PUBLIC_URL', { HOST: '::' }, /^HOST=:: listens on every interface: set PUBLIC_URL/],
    ['PUBLIC_URL not http(s)', { PUBLIC_URL: 'ftp://pay.example.com' }, /^PUBLIC_URL must be an http:\/\/ or https:\/\/ URL$/],
    ['PUBLIC_URL with a path', { PUBLIC_URL: 'https://pay.example.com/pay' }, /^PUBLIC_URL must be an origin only, such as https:\/\/pay\.example\.com \(no path, query, fragment or user\)/],
    ['PUBLIC_URL with a query', { PUBLIC_URL: 'https://pay.example.com/?x=1' }, /^PUBLIC_URL must be an origin only/],
    ['PUBLIC_URL with a fragment', { PUBLIC_URL: 'https://pay.example.com#top' }, /^PUBLIC_URL must be an origin only/],
    ['SCANPAY_DEMO=yes', { SCANPAY_DEMO: 'yes' }, /^SCANPAY_DEMO must be 1, or unset \(demo cards are written whenever no key ring is set; got "yes"\)$/],
    ['SCANPAY_DEMO=0', { SCANPAY_DEMO: '0' }, /^SCANPAY_DEMO must be 1, or unset/],
    ['SCANPAY_DEMO_DIR naming a file', { SCANPAY_DEMO_DIR: files.aFile }, /^the demo cards' folder \(SCANPAY_DEMO_DIR, default \.\/demo-cards\): .*a-file is a file, not a folder$/],
    ['SCANPAY_DEMO_DIR under a file', { SCANPAY_DEMO_DIR: join(files.aFile, 'cards') }, /a-file is a file, not a folder$/],
    ['SCANPAY_REDIS_PREFIX with a space', { ...onRedis, SCANPAY_REDIS_PREFIX: 'my shop:' }, /^SCANPAY_REDIS_PREFIX must be 1 to 128 letters, digits or : \. _ - \(no spaces, braces or glob characters; got "my shop:"\)$/],
    ['SCANPAY_REDIS_PREFIX with a brace', { ...onRedis, SCANPAY_REDIS_PREFIX: 'shop{1}:' }, /^SCANPAY_REDIS_PREFIX must be/],
    ['TLS files that do not exist', { TLS_CERT_FILE: files.missing, TLS_KEY_FILE: files.key }, /^TLS_CERT_FILE .*missing\.pem: cannot read it \(ENOENT\)$/],
    ['a TLS certificate that is not one', { TLS_CERT_FILE: files.key, TLS_KEY_FILE: files.key }, /^TLS_CERT_FILE .*key\.pem holds no PEM certificate$/],
    ['a TLS key that is not one', { TLS_CERT_FILE: files.cert, TLS_KEY_FILE: files.cert }, /^TLS_KEY_FILE .*cert\.pem holds no unencrypted PEM private key$/],
    ['a TLS key of another certificate', { TLS_CERT_FILE: files.cert, TLS_KEY_FILE: files.otherKey }, /^TLS_KEY_FILE .*other-key\.pem is not the private key of the certificate in TLS_CERT_FILE .*cert\.pem$/],
    ['a key ring file that does not exist', { SCANPAY_KEYRING_FILE: files.missing }, /^SCANPAY_KEYRING_FILE: issuer key ring is missing or invalid: cannot read key ring file .*missing\.pem: ENOENT$/],
    ['a key ring file that is not one', { SCANPAY_KEYRING_FILE: files.cert }, /^SCANPAY_KEYRING_FILE: issuer key ring is missing or invalid: not JSON$/],
    ['SCANPAY_KEYRING not JSON', { SCANPAY_KEYRING: '{"storageKey": "x' }, /^SCANPAY_KEYRING: issuer key ring is missing or invalid: not JSON$/],
    ['both SCANPAY_KEYRING_FILE and SCANPAY_KEYRING', { SCANPAY_KEYRING_FILE: files.keyRing, SCANPAY_KEYRING: keyRing.serialize() }, /^set SCANPAY_KEYRING_FILE \(a key ring file\) or SCANPAY_KEYRING \(its JSON\), not both$/],
    ['SCANPAY_FLEET_KEY too short', { SCANPAY_FLEET_KEY: 'abc' }, /^SCANPAY_FLEET_KEY must hold 64 hex digits$/],
    ['a fleet key file that does not exist', { SCANPAY_FLEET_KEY_FILE: files.missing }, /^SCANPAY_FLEET_KEY_FILE: scanner fleet key is missing or invalid: cannot read fleet key file .*missing\.pem: ENOENT$/],
    ['a fleet key file that is not one', { SCANPAY_FLEET_KEY_FILE: files.cert }, /^SCANPAY_FLEET_KEY_FILE: scanner fleet key is missing or invalid: fleet key file .*cert\.pem must hold 64 hex digits$/],
    ['both SCANPAY_FLEET_KEY_FILE and SCANPAY_FLEET_KEY', { SCANPAY_FLEET_KEY_FILE: files.fleetKey, SCANPAY_FLEET_KEY: fleetKeyHex }, /not both$/],
    ['REDIS_URL not a URL', { ...onRedis, REDIS_URL: 'not a url' }, /^REDIS_URL must be redis:\/\/\[:password@\]host\[:port\]\[\/db\], rediss:\/\/… or a unix socket path \(the value is not shown: it may hold a password\)$/],
    ['REDIS_URL http://', { ...onRedis, REDIS_URL: 'http://127.0.0.1:6379' }, /^REDIS_URL must be redis:\/\//],
    ['REDIS_URL with a bad port', { ...onRedis, REDIS_URL: 'redis://127.0.0.1:notaport' }, /^REDIS_URL must be redis:\/\//],
    ['REDIS_URL with a bad db', { ...onRedis, REDIS_URL: 'redis://127.0.0.1:6379/zero' }, /^REDIS_URL must be redis:\/\//],
    ['REDIS_CLUSTER_NODES not host:port', { ...keys, REDIS_CLUSTER_NODES: '10.0.0.1:7000,abc' }, /^REDIS_CLUSTER_NODES entry "abc" is not host:port$/],
    ['REDIS_CLUSTER_NODES empty of nodes', { ...keys, REDIS_CLUSTER_NODES: ' , ' }, /^REDIS_CLUSTER_NODES lists no host:port$/],
    ['both REDIS_URL and REDIS_CLUSTER_NODES', { ...onRedis, REDIS_CLUSTER_NODES: '10.0.0.1:7000' }, /^set REDIS_URL or REDIS_CLUSTER_NODES, not both$/],
  ])('refuses %s with one line naming it', (_, env, message) => {
    const problems = problemsOf(env as NodeJS.ProcessEnv);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('the hold window and the sweep interval: defaults (7 days, 60 s), the variables, their bounds, what startGateway gets', () => {
    expect(readStartConfig({}, [])).toMatchObject({ holdWindowS: 604_800, holdSweepS: 60 });
    const config = readStartConfig({ SCANPAY_HOLD_WINDOW_S: '3600', SCANPAY_HOLD_SWEEP_S: '0' }, []);
    expect(startOptions(config)).toMatchObject({ holdWindowMs: 3_600_000, holdSweepMs: 0 });
    expect(problemsOf({ SCANPAY_HOLD_WINDOW_S: '0', SCANPAY_HOLD_SWEEP_S: '1m' })).toEqual([
      'SCANPAY_HOLD_WINDOW_S must be a whole number from 1 to 2592000 (got "0")',
      'SCANPAY_HOLD_SWEEP_S must be a whole number from 0 to 86400 (got "1m")',
    ]);
    expect(problemsOf({ SCANPAY_HOLD_WINDOW_S: '2592001' })).toEqual(['SCANPAY_HOLD_WINDOW_S must be a whole number from 1 to 2592000 (got "2592001")']);
  });

  it('SCANPAY_PIN_ENTRY: scanner by default, holder-device when set, anything else a problem; what startGateway gets', () => {
    expect(startOptions(readStartConfig({}, []))).toMatchObject({ pinEntry: 'scanner' });
    expect(startOptions(readStartConfig({ SCANPAY_PIN_ENTRY: 'holder-device' }, []))).toMatchObject({ pinEntry: 'holder-device' });
    expect(problemsOf({ SCANPAY_PIN_ENTRY: 'phone' })).toEqual(['SCANPAY_PIN_ENTRY must be scanner or holder-device (got "phone")']);
  });

  it('reports every bad value at once', () => {
    expect(problemsOf({ PORT: 'x', OPS_PORT: 'y', MERCHANT_PORT: 'z', REDIS_URL: 'redis://h' })).toHaveLength(5);
  });

  it('accepts a real deployment: Redis, key ring, fleet key, public URL, TLS, log level', () => {
    expect(readStartConfig({
      HOST: '0.0.0.0', PORT: '8443', PUBLIC_URL: 'https://pay.example.com', REDIS_URL: 'redis://r:6379', ...keys,
      TLS_CERT_FILE: files.cert, TLS_KEY_FILE: files.key, LOG_LEVEL: 'warn', SCANPAY_REDIS_PREFIX: 'my-shop.v1:',
    }, [])).toMatchObject({
      demo: false, port: 8443, tls: { certFile: files.cert, keyFile: files.key }, publicUrl: 'https://pay.example.com', logLevel: 'warn',
      redisPrefix: 'my-shop.v1:',
    });
  });

  it('the wrong-PIN budgets: defaults, and the three variables', () => {
    expect(readStartConfig({}, []).pinBudget).toEqual({ device: { max: 10, windowMs: 3_600_000 }, merchant: { max: 100, windowMs: 3_600_000 } });
    expect(readStartConfig({ SCANPAY_DEVICE_WRONG_PINS: '5', SCANPAY_MERCHANT_WRONG_PINS: '50', SCANPAY_WRONG_PIN_WINDOW_S: '600' }, []).pinBudget)
      .toEqual({ device: { max: 5, windowMs: 600_000 }, merchant: { max: 50, windowMs: 600_000 } });
    expect(problemsOf({ SCANPAY_DEVICE_WRONG_PINS: '0', SCANPAY_MERCHANT_WRONG_PINS: 'many', SCANPAY_WRONG_PIN_WINDOW_S: '2592001' })).toEqual([
      'SCANPAY_WRONG_PIN_WINDOW_S must be a whole number from 1 to 2592000 (got "2592001")',
      'SCANPAY_DEVICE_WRONG_PINS must be a whole number from 1 to 1000000 (got "0")',
      'SCANPAY_MERCHANT_WRONG_PINS must be a whole number from 1 to 1000000 (got "many")',
    ]);
  });

  it('accepts every documented form: IPv6 and named hosts, a trailing slash on PUBLIC_URL, keys inline, Redis URL forms, cluster nodes', () => {
    expect(readStartConfig({}, []).logLevel).toBe('info');
    expect(readStartConfig({ HOST: '::1', OPS_HOST: 'localhost', LOG_LEVEL: 'silent' }, [])).toMatchObject({ host: '::1', opsHost: 'localhost', logLevel: 'silent' });
    expect(readStartConfig({ MERCHANT_HOST: '::', MERCHANT_PORT: '0' }, [])).toMatchObject({ merchantHost: '::', merchantPort: 0 });
    expect(startOptions(readStartConfig({ MERCHANT_HOST: 'localhost', MERCHANT_PORT: '8443' }, []))).toMatchObject({ merchantHost: 'localhost', merchantPort: 8443 });
    expect(readStartConfig({ HOST: '::', PUBLIC_URL: 'https://pay.example.com:8443/' }, []).publicUrl).toBe('https://pay.example.com:8443');
    const inline = { SCANPAY_KEYRING: keyRing.serialize(), SCANPAY_FLEET_KEY: fleetKeyHex };
    for (const url of ['redis://:pw@r:6379/2', 'rediss://user:pw@r', 'redis://[::1]:6379', 'redis://r:6379?db=3', '/run/redis/redis.sock']) {
      expect(readStartConfig({ ...inline, REDIS_URL: url }, []).redisUrl, url).toBe(url);
    }
    expect(readStartConfig({ ...inline, REDIS_CLUSTER_NODES: '10.0.0.1:7000, [::1]:7001' }, []).clusterNodes).toBe('10.0.0.1:7000, [::1]:7001');
    expect(readStartConfig({ ...keys, SCANPAY_DEMO: '1', SCANPAY_DEMO_DIR: join(dir, 'not-yet', 'cards') }, [])).toMatchObject({ demo: true });
  });

  it('a malformed secret or Redis URL is named, never shown', () => {
    const storageKey = Buffer.from(randomBytes(32)).toString('base64url');
    const badRing = JSON.stringify({ format: 'scanpay-keyring/v0', storageKey, issuerKeys: [] });
    const fleetKey = randomBytes(31).toString('hex'); // 62 hex digits: one byte short
    const problems = problemsOf({
      SCANPAY_KEYRING: badRing, SCANPAY_FLEET_KEY: fleetKey, REDIS_URL: 'redis://:hunter2-secret@127.0.0.1:notaport',
      PUBLIC_URL: 'https://admin:p4ssw0rd@pay.example.com',
    });
    expect(problems).toEqual([
      'PUBLIC_URL must be an origin only, such as https://pay.example.com (no path, query, fragment or user): pages are served at /auth/… of it',
      expect.stringMatching(/^REDIS_URL must be/),
      'SCANPAY_KEYRING: issuer key ring is missing or invalid: format must be "scanpay-keyring/v1"',
      'SCANPAY_FLEET_KEY must hold 64 hex digits',
    ]);
    const text = problems.join('\n');
    for (const secret of [storageKey, fleetKey, 'hunter2-secret', 'p4ssw0rd']) expect(text).not.toContain(secret);
  });

  it('--processes N (or SCANPAY_PROCESSES) over Redis; refused on the embedded store; a group\'s process runs one', () => {
    const redis = { REDIS_URL: 'redis://r:6379', ...keys };
    expect(readStartConfig(redis, ['--processes', '3'])).toMatchObject({ processes: 3, group: null });
    expect(readStartConfig(redis, ['--processes=2']).processes).toBe(2);
    expect(readStartConfig({ ...redis, SCANPAY_PROCESSES: '4' }, []).processes).toBe(4);
    expect(readStartConfig({ ...redis, SCANPAY_PROCESSES: '4', SCANPAY_PROCESS_GROUP: '1/4' }, [])).toMatchObject({ processes: 1, group: { index: 1, size: 4 } });
    expect(readStartConfig({}, [])).toMatchObject({ processes: 1, group: null });
    expect(problemsOf({ SCANPAY_PROCESSES: '2' })).toEqual([expect.stringContaining('needs REDIS_URL or REDIS_CLUSTER_NODES')]);
    expect(problemsOf({ ...redis, SCANPAY_PROCESSES: '0' })).toEqual([expect.stringContaining('from 1 to 256')]);
    expect(problemsOf({ ...redis, SCANPAY_PROCESS_GROUP: '2/2' })).toEqual([expect.stringContaining('do not set it by hand')]);
  });

  it('npm start\'s entry exits 2 with `scanpay: … [CONFIG]` lines and starts nothing', () => {
    const main = fileURLToPath(new URL('../../gateway/main.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH, PORT: 'abc', REDIS_URL: 'redis://127.0.0.1:1', SCANPAY_HOLD_WINDOW_S: 'week' }, encoding: 'utf8', timeout: 30_000,
    });
    expect(run.status).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^scanpay: .+ \[CONFIG\]$/);
    expect(lines).toContain('scanpay: SCANPAY_HOLD_WINDOW_S must be a whole number from 1 to 2592000 (got "week") [CONFIG]');
    expect(run.stdout).toBe('');
  });

  describe('the built entry, as `npm start` runs it (node dist/gateway/main.js)', () => {
    const main = fileURLToPath(new URL('../../dist/gateway/main.js', import.meta.url));
    const start = (env: Record<string, string>) => {
      expect(existsSync(main), 'dist/ is not built: run `npm run build`').toBe(true);
      const cwd = mkdtempSync(join(dir, 'cwd-'));
      const run = spawnSync(process.execPath, [main], { cwd, env: { PATH: process.env.PATH, PORT: '0', OPS_PORT: '0', MERCHANT_PORT: '0', ...env }, encoding: 'utf8', timeout: 30_000 });
      return { ...run, wroteDemo: existsSync(join(cwd, 'demo-cards')) };
    };

    it('LOG_LEVEL=loud: one CONFIG line, exit 2, nothing started (no log, no demo cards)', () => {
      const run = start({ LOG_LEVEL: 'loud' });
      expect(run.stderr).toBe('scanpay: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud") [CONFIG]\n');
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.wroteDemo).toBe(false);
    });

    it('a Redis that does not answer: one START line with the reason (not the URL\'s password), exit 2', () => {
      const run = start({ ...keys, REDIS_URL: 'redis://:hunter2-secret@127.0.0.1:1' });
      expect(run.stderr).toMatch(/^scanpay: the gateway did not start: the store could not be reached or refused the operation: .*ECONNREFUSED.* \[START\]\n$/);
      expect(run.stderr).not.toContain('hunter2-secret');
      expect(run.status).toBe(2);
    });

    it('every bad value at once: one CONFIG line each, no stack, no secret, exit 2', () => {
      const storageKey = Buffer.from(randomBytes(32)).toString('base64url');
      const run = start({
        LOG_LEVEL: 'loud', HOST: '[::1]', PUBLIC_URL: 'https://pay.example.com/pay', SCANPAY_DEMO: 'yes', TLS_CERT_FILE: files.missing, TLS_KEY_FILE: files.key,
        SCANPAY_KEYRING: JSON.stringify({ format: 'x', storageKey }), SCANPAY_FLEET_KEY: 'abc', REDIS_URL: 'redis://:hunter2-secret@127.0.0.1:notaport',
        SCANPAY_REDIS_PREFIX: 'my shop:',
      });
      expect(run.status).toBe(2);
      const lines = run.stderr.trimEnd().split('\n');
      for (const line of lines) expect(line).toMatch(/^scanpay: .+ \[CONFIG\]$/);
      expect(lines.map((line) => /^scanpay: (\S+)/.exec(line)![1])).toEqual([
        'HOST', 'PUBLIC_URL', 'TLS_CERT_FILE', 'REDIS_URL', 'SCANPAY_REDIS_PREFIX', 'SCANPAY_KEYRING:', 'SCANPAY_FLEET_KEY', 'SCANPAY_DEMO', 'LOG_LEVEL',
      ]);
      for (const secret of [storageKey, 'hunter2-secret']) expect(run.stderr).not.toContain(secret);
      expect(run.stdout).toBe('');
      expect(run.wroteDemo).toBe(false);
    });
  });
});

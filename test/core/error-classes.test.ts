/**
 * One base class for every layer's errors (core/errors.ts): each class is a ScanpayBaseError with a `code`
 * and the `layer` that owns it, keeps its own name, class and guard for existing callers, and the CLI prints
 * any of them as `scanpay: <message> [CODE]`.
 */
import { describe, expect, it } from 'vitest';
import {
  CORE_ERROR_CODES, ERROR_CODES, ISSUER_ERROR_CODES, PAYMENT_ERROR_CODES, PROTOCOL_ERROR_CODES, STORE_ERROR_CODES,
  ScanpayBaseError, ScanpayError, isScanpayBaseError, isScanpayError, type ErrorCode,
} from '../../core/errors.ts';
import { CliError, describeFailure, usageError } from '../../cli/errors.ts';
import { ConfigError, readStartConfig } from '../../gateway/config.ts';
import { SCANNER_CODES } from '../../protocol/messages.ts';
import * as sdk from '../../sdk/index.ts';
import { ScannerError, isScannerError, scannerErrorFromFrame } from '../../sdk/scanner-error.ts';

describe('ScanpayError codes, by layer', () => {
  // the payments module's codes are the issuer's layer too (core/errors.ts PAYMENT_ERROR_CODES)
  const tables = { core: CORE_ERROR_CODES, issuer: { ...ISSUER_ERROR_CODES, ...PAYMENT_ERROR_CODES }, store: STORE_ERROR_CODES, protocol: PROTOCOL_ERROR_CODES };

  it('ERROR_CODES is exactly the layer tables together, no code in two of them', () => {
    const all = Object.values(tables).flatMap((t) => Object.keys(t));
    expect(new Set(all).size).toBe(all.length);
    expect(Object.keys(ERROR_CODES).sort()).toEqual(all.sort());
  });

  it.each(Object.entries(tables))('every %s code makes a ScanpayError of that layer, with its message', (layer, table) => {
    for (const [code, message] of Object.entries(table)) {
      const e = new ScanpayError(code as ErrorCode, 'detail');
      expect(e).toBeInstanceOf(ScanpayBaseError);
      expect(e).toBeInstanceOf(Error);
      expect(e).toMatchObject({ name: 'ScanpayError', code, layer, message: `${message}: detail`, detail: 'detail' });
      expect(isScanpayError(e, code as ErrorCode)).toBe(true);
      expect(isScanpayBaseError(e, code)).toBe(true);
    }
  });

  it('keeps the messages callers and docs know', () => {
    expect(new ScanpayError('PIN_FORMAT').message).toBe('PIN must be exactly 4 decimal digits');
    expect(new ScanpayError('STORE_UNAVAILABLE').layer).toBe('store');
    expect(new ScanpayError('FLEET_KEY_INVALID').layer).toBe('protocol');
  });
});

describe('the other layers extend the same base', () => {
  it('ScannerError: a gateway code is layer protocol, a client code layer sdk', () => {
    for (const code of SCANNER_CODES) expect(new ScannerError(code, 'm')).toMatchObject({ layer: 'protocol', code, name: 'ScannerError' });
    for (const code of ['TIMEOUT', 'CLOSED', 'UNAUTHORIZED', 'DISCONNECTED'] as const) {
      const e = new ScannerError(code, 'm');
      expect(e).toBeInstanceOf(ScanpayBaseError);
      expect(e).toMatchObject({ layer: 'sdk', code });
    }
    expect(new ScannerError('DISCONNECTED', 'm').retryable).toBe(true);
    const unknown = scannerErrorFromFrame('FROM_THE_FUTURE', 'x');
    expect(unknown).toMatchObject({ code: 'INTERNAL', layer: 'protocol', message: '[FROM_THE_FUTURE] x' });
    expect(isScannerError(unknown, 'INTERNAL')).toBe(true);
  });

  it('MerchantApiError: an API code is layer protocol, a client code layer sdk', () => {
    for (const code of sdk.MERCHANT_API_CODES) expect(new sdk.MerchantApiError(code, 'm', 400)).toMatchObject({ layer: 'protocol', code, name: 'MerchantApiError', status: 400 });
    for (const code of ['NETWORK', 'BAD_RESPONSE'] as const) {
      const e = new sdk.MerchantApiError(code, 'm', null);
      expect(e).toBeInstanceOf(ScanpayBaseError);
      expect(e).toMatchObject({ layer: 'sdk', code, status: null, replayed: false });
    }
    expect(sdk.isMerchantApiError(new sdk.MerchantApiError('AMOUNT_TOO_LARGE', 'm', 422), 'AMOUNT_TOO_LARGE')).toBe(true);
    expect(sdk.isMerchantApiError(new ScannerError('INTERNAL', 'm'))).toBe(false);
  });

  it('ConfigError: code CONFIG, layer gateway, every problem kept', () => {
    let error: unknown;
    try {
      readStartConfig({ PORT: 'abc', OPS_PORT: '99999' }, []);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(ScanpayBaseError);
    expect(error).toMatchObject({ name: 'ConfigError', code: 'CONFIG', layer: 'gateway' });
    expect((error as ConfigError).problems).toHaveLength(2);
  });

  it('CliError: its code and exit code, layer cli', () => {
    const e = usageError('--amount must be positive (≥ 1)');
    expect(e).toBeInstanceOf(CliError);
    expect(e).toBeInstanceOf(ScanpayBaseError);
    expect(e).toMatchObject({ name: 'CliError', code: 'USAGE', layer: 'cli', exitCode: 2 });
  });

  it('the guards stay apart: isScanpayError is for ScanpayError only, isScanpayBaseError for all', () => {
    const errors = [new ScanpayError('CARD_BLOCKED'), new ScannerError('CARD_BLOCKED', 'm'), usageError('u'), new ConfigError(['p'])];
    expect(errors.map((e) => isScanpayError(e))).toEqual([true, false, false, false]);
    expect(errors.map((e) => isScannerError(e))).toEqual([false, true, false, false]);
    expect(errors.every((e) => isScanpayBaseError(e))).toBe(true);
    expect(isScanpayBaseError(new Error('plain'))).toBe(false);
    expect(isScanpayBaseError({ code: 'CARD_BLOCKED', layer: 'issuer', message: 'forged' })).toBe(false);
    expect(isScanpayBaseError(errors[1], 'CARD_BLOCKED')).toBe(true);
    expect(isScanpayBaseError(errors[1], 'CARD_LOCKED')).toBe(false);
  });

  it('the SDK entry exports the base, so a scanner app can match any error with it', () => {
    expect(sdk.ScanpayBaseError).toBe(ScanpayBaseError);
    expect(new sdk.ScannerError('TIMEOUT', 't')).toBeInstanceOf(sdk.ScanpayBaseError);
  });
});

describe('the CLI prints every layer alike', () => {
  it.each([
    [new ScanpayError('CARD_BLOCKED'), 'scanpay: card is blocked [CARD_BLOCKED]', 1],
    [new ScannerError('UNAUTHORIZED', 'the gateway refused the device token'), 'scanpay: the gateway refused the device token [UNAUTHORIZED]', 1],
    [usageError('--pin must be exactly 4 digits'), 'scanpay: --pin must be exactly 4 digits [USAGE]', 2],
    [new Error('boom'), 'scanpay: boom [INTERNAL]', 1],
  ] as const)('%s', (error, line, exitCode) => {
    expect(describeFailure(error)).toEqual({ line, exitCode });
  });
});

/**
 * vitest setup for every test file: after the file's tests, no registered secret may have appeared in any
 * output the suite inspected (test/support/secret-sink.ts).
 */
import { afterAll, expect } from 'vitest';
import { takeLeaks } from './secret-sink.ts';

afterAll(() => {
  expect(takeLeaks(), 'secrets in logs, frames, pages or metrics').toEqual([]);
});

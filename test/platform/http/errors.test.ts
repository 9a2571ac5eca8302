/** ProblemError and the RFC 9457 body shape. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  PROBLEM_CONTENT_TYPE,
  ProblemError,
  badRequest,
  conflict,
  forbidden,
  notFound,
  problemType,
  unprocessable,
  unavailable,
  unauthenticated,
} from '../../../src/platform/errors.ts';
import { OpentsmError } from '../../../src/core/errors.ts';

test('RFC 9457 body: type is the stable URI of the code, title the reason phrase, extensions after', () => {
  const p = new ProblemError({ status: 409, code: 'SSD_EXISTS', detail: 'SSD A000000151535344 exists', extra: { aid: 'A000000151535344' } });
  assert.ok(p instanceof OpentsmError);
  assert.equal(p.code, 'SSD_EXISTS');
  assert.equal(p.message, 'SSD A000000151535344 exists');
  assert.deepEqual(p.toBody('/cards/1/ssds'), {
    type: 'https://opentsm.dev/problems/SSD_EXISTS',
    title: 'Conflict',
    status: 409,
    detail: 'SSD A000000151535344 exists',
    instance: '/cards/1/ssds',
    code: 'SSD_EXISTS',
    aid: 'A000000151535344',
  });
  assert.equal(PROBLEM_CONTENT_TYPE, 'application/problem+json');
  assert.equal(problemType('NOT_FOUND'), 'https://opentsm.dev/problems/NOT_FOUND');
});

test('a caller mistake in building a problem is a TypeError/RangeError', () => {
  assert.throws(() => new ProblemError({ status: 200, code: 'X_Y', detail: '' }), RangeError);
  assert.throws(() => new ProblemError({ status: 600, code: 'X_Y', detail: '' }), RangeError);
  assert.throws(() => new ProblemError({ status: 400, code: 'lower', detail: '' }), TypeError);
  assert.throws(() => new ProblemError({ status: 400, code: 'BAD CODE', detail: '' }), TypeError);
  assert.throws(() => new ProblemError({ status: 400, code: 'OK_CODE', detail: '', extra: { status: 1 } }), /reserved/);
});

test('helpers pick the status and default code', () => {
  const cases: [ProblemError, number, string][] = [
    [badRequest('x'), 400, 'BAD_REQUEST'],
    [unauthenticated('x'), 401, 'UNAUTHENTICATED'],
    [forbidden('x'), 403, 'FORBIDDEN'],
    [notFound('x'), 404, 'NOT_FOUND'],
    [conflict('x'), 409, 'CONFLICT'],
    [unprocessable('x', 'KCV_MISMATCH'), 422, 'KCV_MISMATCH'],
    [unavailable('x'), 503, 'UNAVAILABLE'],
  ];
  for (const [p, status, code] of cases) assert.deepEqual([p.status, p.code, p.title.length > 0], [status, code, true]);
});

test('ConfigError lists every issue in its message', () => {
  const e = new ConfigError([
    { path: 'a', message: 'is required' },
    { path: 'b.c', message: 'must be an integer' },
  ]);
  assert.equal(e.code, 'INVALID_CONFIG');
  assert.equal(e.message, 'invalid configuration:\n  - a: is required\n  - b.c: must be an integer');
});

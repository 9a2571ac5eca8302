/** transport/errors.ts RemoteError: the one base of the errors a remote peer on the path to a card causes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteError } from '../../src/transport/errors.ts';
import { DeviceError } from '../../src/device/errors.ts';
import { TerminalError } from '../../src/terminal/errors.ts';
import { RamClientError } from '../../src/transport/ram-http/client-session.ts';
import { OtaError } from '../../src/services/ota/errors.ts';
import { RamServerError } from '../../src/transport/ram-http/server-errors.ts';

test('DeviceError, TerminalError, RamClientError and OtaError share RemoteError (status, problemCode)', () => {
  const all = [
    new DeviceError('REFUSED', 'd', { status: 403, problemCode: 'FORBIDDEN' }),
    new TerminalError('REFUSED', 't', { status: 409, problemCode: 'NO_OPEN_REQUEST' }),
    new RamClientError('REFUSED', 'r', { status: 400, problemCode: 'BAD_HEADER' }),
    new OtaError('TIMEOUT', 'o', { deviceId: 'dev1' }),
  ];
  for (const e of all) assert.ok(e instanceof RemoteError, e.name);
  assert.deepEqual(all.map((e) => [e.name, e.code, e.status, e.problemCode]), [
    ['DeviceError', 'REFUSED', 403, 'FORBIDDEN'],
    ['TerminalError', 'REFUSED', 409, 'NO_OPEN_REQUEST'],
    ['RamClientError', 'REFUSED', 400, 'BAD_HEADER'],
    ['RamServerError', 'TIMEOUT', undefined, undefined],
  ]);
  assert.equal(OtaError, RamServerError);
  assert.equal((all[3] as OtaError).deviceId, 'dev1');
});

/** RAM over HTTP headers and media types, GlobalPlatform Card Spec v2.2 Amendment B §3.3–§3.8. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../src/core/bytes.ts';
import { CodecError } from '../../../src/core/errors.ts';
import {
  ADMIN_PROTOCOL,
  CONTENT_TYPE_RESPONSE,
  CONTENT_TYPE_SCRIPT,
  formatAgentId,
  formatTargetedApplication,
  parseAdminProtocol,
  parseAgentId,
  parseContentType,
  parseNextUri,
  parseResume,
  parseScriptStatus,
  parseTargetedApplication,
} from '../../../src/transport/ram-http/headers.ts';
import { encodeTrigger, parseTrigger } from '../../../src/transport/ram-http/trigger.ts';

const codecError = (code: CodecError['code'], offset?: number) => (e: unknown) =>
  e instanceof CodecError && e.code === code && (offset === undefined || e.offset === offset);

test('§3.3 X-Admin-Protocol: globalplatform-remote-admin/1.0 only', () => {
  assert.equal(ADMIN_PROTOCOL, 'globalplatform-remote-admin/1.0');
  assert.equal(parseAdminProtocol('GlobalPlatform-Remote-Admin/1.0 '), '1.0');
  assert.throws(() => parseAdminProtocol('globalplatform-remote-admin/1.1'), codecError('BAD_VALUE', 30));
  assert.throws(() => parseAdminProtocol('globalplatform-remote-admin'), codecError('BAD_VALUE', 27));
  assert.throws(() => parseAdminProtocol(''), codecError('TRUNCATED', 0));
  assert.throws(() => parseAdminProtocol('x'.repeat(2000)), codecError('OVERLONG'));
});

test('§3.4/§3.5 content types with version=1.0', () => {
  assert.equal(CONTENT_TYPE_SCRIPT, 'application/vnd.globalplatform.card-content-mgt;version=1.0');
  assert.equal(CONTENT_TYPE_RESPONSE, 'application/vnd.globalplatform.card-content-mgt-response;version=1.0');
  assert.equal(parseContentType(CONTENT_TYPE_SCRIPT), 'script');
  assert.equal(parseContentType('Application/VND.globalplatform.card-content-mgt-response ; version="1.0"'), 'response');
  assert.throws(() => parseContentType('application/octet-stream'), codecError('BAD_VALUE', 0));
  assert.throws(() => parseContentType('application/vnd.globalplatform.card-content-mgt'), codecError('BAD_VALUE'));
  assert.throws(() => parseContentType('application/vnd.globalplatform.card-content-mgt;version=2.0'), codecError('BAD_VALUE'));
  assert.throws(() => parseContentType('application/vnd.globalplatform.card-content-mgt;version'), codecError('BAD_VALUE', 48));
  assert.throws(() => parseContentType('application/vnd.globalplatform.card-content-mgt;version=1.0;version=1.0'), codecError('BAD_VALUE'));
});

test('§3.5 X-Admin-Targeted-Application //aid/<RID>/<PIX>', () => {
  const aid = fromHex('A000000151535041');
  assert.equal(formatTargetedApplication(aid), '//aid/A000000151/535041');
  assert.equal(toHex(parseTargetedApplication('//aid/a000000151/535041')).toUpperCase(), 'A000000151535041');
  assert.equal(formatTargetedApplication(fromHex('A000000151')), '//aid/A000000151');
  assert.equal(toHex(parseTargetedApplication('//aid/A000000151/')).toUpperCase(), 'A000000151');
  assert.throws(() => parseTargetedApplication('/aid/A000000151/00'), codecError('BAD_VALUE', 0));
  assert.throws(() => parseTargetedApplication('//aid/A0000001/5100'), codecError('BAD_VALUE', 6));
  assert.throws(() => parseTargetedApplication('//aid/A000000151/5'), codecError('BAD_VALUE', 17));
  assert.throws(() => parseTargetedApplication('//aid/A000000151/' + '00'.repeat(12)), codecError('BAD_VALUE', 17));
  assert.throws(() => parseTargetedApplication('//aid/A00000015G/00'), codecError('BAD_VALUE', 6));
  assert.throws(() => formatTargetedApplication(fromHex('A0000001')), RangeError);
});

test('§3.3 X-Admin-From //se-id/<type>/<value>[;//aa-id/aid/<RID>/<PIX>]', () => {
  const eid = '89049032123451234512345678901235';
  const v = `//se-id/eid/${eid};//aa-id/aid/A000000151/000000`;
  const id = parseAgentId(v);
  assert.equal(id.seIdType, 'eid');
  assert.equal(id.seId, eid);
  assert.equal(toHex(id.aaId!).toUpperCase(), 'A000000151000000');
  assert.equal(formatAgentId(id), v);
  assert.deepEqual(parseAgentId('//se-id/iccid/8988211000000467285F'), { seIdType: 'iccid', seId: '8988211000000467285F' });
  assert.throws(() => parseAgentId('simple'), codecError('BAD_VALUE', 0));
  assert.throws(() => parseAgentId('//se-id/eid/'), codecError('BAD_VALUE', 0));
  assert.throws(() => parseAgentId(`//se-id/eid/${eid};//xx`), codecError('BAD_VALUE', 45));
  assert.throws(() => parseAgentId(`//se-id/eid/${eid};//aa-id/aid/A0000001/00`), codecError('BAD_VALUE', 57));
});

test('§3.6 X-Admin-Script-Status, §3.8 X-Admin-Resume, X-Admin-Next-URI', () => {
  for (const s of ['ok', 'unknown-application', 'not-a-security-domain', 'security-error']) assert.equal(parseScriptStatus(s), s);
  assert.equal(parseScriptStatus(' OK '), 'ok');
  assert.throws(() => parseScriptStatus('fine'), codecError('BAD_VALUE', 0));
  assert.equal(parseResume('true'), true);
  assert.equal(parseResume('FALSE'), false);
  assert.throws(() => parseResume('yes'), codecError('BAD_VALUE'));
  assert.equal(parseNextUri('/ram/0123/4'), '/ram/0123/4');
  assert.throws(() => parseNextUri('https://evil.example/x'), codecError('BAD_VALUE', 0));
  assert.throws(() => parseNextUri('//evil.example/x'), codecError('BAD_VALUE', 0));
  assert.throws(() => parseNextUri('/ram/a b'), codecError('BAD_VALUE', 6));
});

test('push trigger: round trip and strict parsing', () => {
  const t = { type: 'ram-http-trigger' as const, deviceId: 'dev1', id: 7 };
  assert.deepEqual(parseTrigger(encodeTrigger(t)), t);
  for (const bad of ['', 'null', '[]', '{"type":"x","deviceId":"d","id":1}', '{"type":"ram-http-trigger","deviceId":"","id":1}', '{"type":"ram-http-trigger","deviceId":"d","id":-1}', '{"type":"ram-http-trigger","deviceId":"d","id":1,"x":1}', 'x'.repeat(600)]) {
    assert.throws(() => parseTrigger(bad), CodecError, bad.slice(0, 30));
  }
});

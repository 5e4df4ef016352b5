import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfigSipUri, parseHostPort, formatHostPort, formatPath } from '../../../firmware/src/config/index.js';

test('sip URIs: host, port, transport', () => {
  assert.equal(parseConfigSipUri('sip:sbc.cloud.example:5060;transport=udp'), {
    scheme: 'sip',
    host: 'sbc.cloud.example',
    port: 5060,
    transport: 'udp',
  });
  assert.equal(parseConfigSipUri('sips:trunk@[2001:db8::1];lr'), { scheme: 'sips', user: 'trunk', host: '[2001:db8::1]' });
  assert.equal(parseConfigSipUri('sip:192.0.2.1;TRANSPORT=TLS'), { scheme: 'sip', host: '192.0.2.1', transport: 'tls' });
});

test('not sip URIs', () => {
  for (const bad of ['', 'sip:', 'tel:+441632960000', 'http://x', 'sip:host:0', 'sip:host:70000', 'sip:a b', 'sip:host;transport=sctp', 'sip:-bad-.example']) {
    assert.ok('error' in parseConfigSipUri(bad), bad);
  }
});

test('host:port, IPv6 in brackets, and back', () => {
  assert.equal(parseHostPort('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.equal(parseHostPort('[::1]:0'), { host: '::1', port: 0 });
  assert.is(parseHostPort('::1:8080'), undefined);
  assert.is(parseHostPort('host:65536'), undefined);
  assert.is(formatHostPort({ host: '::1', port: 8080 }), '[::1]:8080');
  assert.is(formatHostPort({ host: 'a.example', port: 1 }), 'a.example:1');
});

test('JSON paths', () => {
  assert.is(formatPath(['huntGroups', 0, 'members', 2], 'practice'), 'practice.huntGroups[0].members[2]');
  assert.is(formatPath(['device', 'id']), 'device.id');
  assert.is(formatPath([]), '(root)');
  assert.is(formatPath([], 'practice'), 'practice');
  assert.is(formatPath(['a-b', 0]), '["a-b"][0]');
});

test.run();

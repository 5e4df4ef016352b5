import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatUri,
  isAbsoluteUri,
  parseUri,
  uriEquals,
  uriScheme,
} from '../../../../firmware/src/sip/message/uri.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';

function throwsParse(s: string): void {
  try {
    parseUri(s);
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_SIP_PARSE'), `${s}: wrong error ${String(e)}`);
    return;
  }
  assert.unreachable(`${s} should not parse`);
}

test('all components of a SIP URI', () => {
  const u = parseUri('sip:alice:secret@Atlanta.example.com:5061;transport=TCP;lr;Maddr=239.255.255.1?subject=project%20x&priority=urgent');
  assert.is(u.scheme, 'sip');
  assert.is(u.user, 'alice');
  assert.is(u.password, 'secret');
  assert.is(u.host, 'Atlanta.example.com');
  assert.is(u.port, 5061);
  assert.equal([...u.params], [['transport', 'TCP'], ['lr', null], ['maddr', '239.255.255.1']]);
  assert.equal([...u.headers], [['subject', 'project x'], ['priority', 'urgent']]);
});

test('sips, host only, scheme case', () => {
  const u = parseUri('SIPS:example.com');
  assert.is(u.scheme, 'sips');
  assert.is(u.user, undefined);
  assert.is(u.host, 'example.com');
  assert.is(u.port, undefined);
  assert.is(u.params.size, 0);
});

test('IPv6 references keep their brackets', () => {
  const u = parseUri('sip:bob@[2001:db8::10]:5070;transport=udp');
  assert.is(u.host, '[2001:db8::10]');
  assert.is(u.port, 5070);
  assert.is(parseUri('sip:[::ffff:192.0.2.1]').host, '[::ffff:192.0.2.1]');
  throwsParse('sip:[2001:db8::10');
  throwsParse('sip:[2001:db8::zz]');
  throwsParse('sip:2001:db8::10');
});

test('tel URIs carry the number in user', () => {
  const u = parseUri('tel:+1-201-555-0123;phone-context=example.com');
  assert.is(u.scheme, 'tel');
  assert.is(u.user, '+1-201-555-0123');
  assert.is(u.host, '');
  assert.equal([...u.params], [['phone-context', 'example.com']]);
  assert.is(formatUri(u), 'tel:+1-201-555-0123;phone-context=example.com');
  throwsParse('tel:');
  throwsParse('tel:+44 20');
});

test('escapes are decoded once, in user, password, params and headers', () => {
  assert.is(parseUri('sip:%75s%65r@h').user, 'user');
  assert.is(parseUri('sip:I%20have%20spaces@h').user, 'I have spaces');
  assert.is(parseUri('sip:u:p%40ss@h').password, 'p@ss');
  assert.is(parseUri('sip:h;n%61me=v%61lue%25%34%31').params.get('name'), 'value%41');
  assert.is(parseUri('sip:h?to=sip:bob%40biloxi.com').headers.get('to'), 'sip:bob@biloxi.com');
  assert.is(parseUri('sip:%C3%A9l%C3%A8ve@h').user, 'élève');
  assert.is(parseUri('sip:%00@h').user, '\0');
  throwsParse('sip:a%zzb@h');
  throwsParse('sip:a%2@h');
});

test('user parts may hold ; ? / & = + $ , (user-unreserved)', () => {
  const u = parseUri('sip:user;par=u%40example.net@example.com');
  assert.is(u.user, 'user;par=u@example.net');
  assert.is(u.params.size, 0);
  assert.is(parseUri('sip:a?b/c&d=e+f$g,h@x').user, 'a?b/c&d=e+f$g,h');
});

test('a raw # in the user part is tolerated (feature codes) and escaped when formatted', () => {
  const u = parseUri('sip:*97#@pbx.example.com');
  assert.is(u.user, '*97#');
  assert.is(formatUri(u), 'sip:*97%23@pbx.example.com');
  assert.ok(uriEquals(u, parseUri('sip:*97%23@pbx.example.com')));
});

test('malformed URIs throw PGW_E_SIP_PARSE', () => {
  for (const s of [
    '',
    'sip:',
    'sip:user@',
    'sip:@host',
    'sip:a@b@c',
    'sip:host:',
    'sip:host:99999',
    'sip:host:123456',
    'sip:host;',
    'sip:host;=x',
    'sip:host;a=',
    'sip:host?',
    'sip:host?x',
    'sip:host x',
    'sip:ho<st',
    '<sip:host>',
    'http://example.com/',
    'host.example.com',
  ]) {
    throwsParse(s);
  }
});

test('format escapes only what each part needs', () => {
  const u = parseUri('sip:h');
  u.user = 'sips:user@example.com';
  assert.is(formatUri(u), 'sip:sips%3Auser%40example.com@h');
  u.user = 'user;par=x';
  u.params.set('name', 'value%41');
  u.params.set('lr', null);
  assert.is(formatUri(u), 'sip:user;par=x@h;name=value%2541;lr');
  u.headers.set('Route', '<sip:sip.example.com>');
  assert.is(formatUri(u), 'sip:user;par=x@h;name=value%2541;lr?Route=%3Csip:sip.example.com%3E');
  u.user = '\0é';
  assert.is(formatUri(u).slice(0, 15), 'sip:%00%C3%A9@h');
});

test('parse → format → parse keeps the URI', () => {
  for (const s of [
    'sip:alice@atlanta.example.com',
    'sip:alice:pw@atlanta.example.com:5060;transport=tcp;lr',
    'sips:[2001:db8::1]:5061',
    'sip:+442071234567@gw.example.net;user=phone',
    "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
    'sip:sips%3Auser%40example.com@example.net',
    'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31',
    'sip:user@example.com?Route=%3Csip:sip.example.com%3E',
    'sip:null-%00-null@example.com',
    'tel:7042;phone-context=example.com',
  ]) {
    const a = parseUri(s);
    const text = formatUri(a);
    assert.equal(parseUri(text), a, s);
    assert.ok(uriEquals(parseUri(text), a), s);
  }
  // A URI that needs no escaping comes back exactly.
  assert.is(formatUri(parseUri('sip:alice:pw@atlanta.example.com:5060;transport=tcp;lr?x=y')), 'sip:alice:pw@atlanta.example.com:5060;transport=tcp;lr?x=y');
});

test('uriEquals: RFC 3261 §19.1.4 equivalent examples', () => {
  const pairs: [string, string][] = [
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
    ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['sip:[2001:DB8:0::1]', 'sip:[2001:db8::1]'],
    ['sip:[::ffff:192.0.2.1]', 'sip:[::FFFF:C000:201]'],
    ['tel:+1-201-555-0123', 'tel:+12015550123'],
  ];
  for (const [a, b] of pairs) {
    assert.ok(uriEquals(parseUri(a), parseUri(b)), `${a} == ${b}`);
    assert.ok(uriEquals(parseUri(b), parseUri(a)), `${b} == ${a}`);
  }
});

test('uriEquals: RFC 3261 §19.1.4 non-equivalent examples', () => {
  const pairs: [string, string][] = [
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:bob@biloxi.com', 'sips:bob@biloxi.com'],
    ['sip:bob@biloxi.com;user=phone', 'sip:bob@biloxi.com'],
    ['sip:bob@biloxi.com;maddr=x', 'sip:bob@biloxi.com'],
    ['sip:bob:a@biloxi.com', 'sip:bob:b@biloxi.com'],
    ['sip:bob@biloxi.com;lr', 'sip:bob@biloxi.com;lr=on'],
    ['tel:+12015550123', 'tel:+12015550123;ext=1'],
  ];
  for (const [a, b] of pairs) {
    assert.not.ok(uriEquals(parseUri(a), parseUri(b)), `${a} != ${b}`);
    assert.not.ok(uriEquals(parseUri(b), parseUri(a)), `${b} != ${a}`);
  }
});

test('uriScheme and isAbsoluteUri', () => {
  assert.is(uriScheme('SIP:x'), 'sip');
  assert.is(uriScheme('soap.beep://192.0.2.103:3002'), 'soap.beep');
  assert.is(uriScheme('nobodyKnowsThisScheme:totallyopaquecontent'), 'nobodyknowsthisscheme');
  assert.is(uriScheme('<sip:x>'), undefined);
  assert.is(uriScheme('1abc:x'), undefined);
  assert.is(uriScheme('noscheme'), undefined);
  assert.ok(isAbsoluteUri('isbn:2983792873'));
  assert.ok(isAbsoluteUri('http://www.example.com'));
  assert.not.ok(isAbsoluteUri('<sip:user@example.com>'));
  assert.not.ok(isAbsoluteUri('sip:user@example.com; lr'));
  assert.not.ok(isAbsoluteUri('sip:'));
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatNameAddr,
  nameAddrTag,
  parseNameAddr,
  splitNameAddr,
} from '../../../../firmware/src/sip/message/name-addr.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';

test('quoted display name with escapes, URI params inside <>, header params outside', () => {
  const n = parseNameAddr('"Alice \\"Al\\" Smith" <sip:alice@atlanta.example.com;transport=tcp>;tag=1928301774;X=Y');
  assert.is(n.displayName, 'Alice "Al" Smith');
  assert.is(n.uri.user, 'alice');
  assert.equal([...n.uri.params], [['transport', 'tcp']]);
  assert.equal([...n.params], [['tag', '1928301774'], ['x', 'Y']]);
  assert.is(n.wildcard, undefined);
});

test('token display names, with and without LWS before <', () => {
  assert.is(parseNameAddr('Bob Smith <sip:bob@b.example.com>').displayName, 'Bob Smith');
  assert.is(parseNameAddr('caller<sip:caller@example.com>;tag=323').displayName, 'caller');
  assert.is(parseNameAddr('<sip:bob@b.example.com>').displayName, undefined);
  assert.is(parseNameAddr('"" <sip:bob@b.example.com>').displayName, '');
  assert.is(parseNameAddr('"Jörg Müller" <sip:201@pbx>').displayName, 'Jörg Müller');
});

test('addr-spec: params after the URI belong to the header', () => {
  const n = parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam;expires=60');
  assert.is(n.uri.user, '+19725552222');
  assert.is(n.uri.params.size, 0);
  assert.equal([...n.params], [['unknownparam', null], ['expires', '60']]);
  const t = parseNameAddr('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
  assert.is(t.params.get('tag'), '1918181833n');
  assert.is(parseNameAddr('tel:+441234;tag=x').uri.user, '+441234');
});

test('quoted parameter values keep their quotes; names are lower-cased', () => {
  const n = parseNameAddr('<sip:201@192.0.2.7:5060;ob>;+sip.instance="<urn:uuid:0000-1>";reg-id=1;Q=0.5');
  assert.is(n.params.get('+sip.instance'), '"<urn:uuid:0000-1>"');
  assert.is(n.params.get('q'), '0.5');
  assert.equal([...n.uri.params], [['ob', null]]);
});

test('IPv6 in URI and as a parameter value', () => {
  const n = parseNameAddr('<sip:201@[2001:db8::7]:5060>;received=[2001:db8::7]');
  assert.is(n.uri.host, '[2001:db8::7]');
  assert.is(n.params.get('received'), '[2001:db8::7]');
});

test('Contact wildcard', () => {
  const n = parseNameAddr(' * ');
  assert.is(n.wildcard, true);
  assert.is(formatNameAddr(n), '*');
});

test('malformed addresses throw PGW_E_SIP_PARSE', () => {
  for (const s of [
    '',
    '"Mr. J. User <sip:j.user@example.com>',
    '"Watson, Thomas" < sip:t.watson@example.org >',
    'Watson, Thomas <sip:t.watson@example.org>',
    'sip:user@example.com?Route=%3Csip:sip.example.com%3E',
    '"Joe" <sip:joe@example.org>;;;;',
    '<sip:joe@example.org>;tag=',
    '<sip:joe@example.org>;tag="x',
    '<sip:joe@example.org',
    '<>',
    '"Joe" sip:joe@example.org',
    '<sip:joe@example.org> x',
    '<http://example.com>',
  ]) {
    try {
      parseNameAddr(s);
      assert.unreachable(`${s} should not parse`);
    } catch (e) {
      assert.ok(isPgwError(e, 'PGW_E_SIP_PARSE'), `${s}: ${String(e)}`);
    }
  }
});

test('splitNameAddr accepts URIs of any scheme (RFC 4475 unksm2)', () => {
  assert.equal(splitNameAddr('<http://www.example.com>;tag=3234233'), {
    displayName: undefined,
    uriText: 'http://www.example.com',
    params: new Map([['tag', '3234233']]),
    wildcard: false,
  });
  assert.is(splitNameAddr('isbn:2983792873').uriText, 'isbn:2983792873');
});

test('format: always name-addr, display name quoted', () => {
  const n = parseNameAddr('Bob <sip:bob@example.com;lr>;tag=abc;flag');
  assert.is(formatNameAddr(n), '"Bob" <sip:bob@example.com;lr>;tag=abc;flag');
  assert.is(formatNameAddr({ uri: n.uri, params: new Map() }), '<sip:bob@example.com;lr>');
  assert.is(formatNameAddr({ displayName: 'a "b" \\c', uri: n.uri, params: new Map() }), '"a \\"b\\" \\\\c" <sip:bob@example.com;lr>');
  // addr-spec params stay header params when formatted.
  const c = parseNameAddr('sip:u@h;expires=3600');
  assert.is(formatNameAddr(c), '<sip:u@h>;expires=3600');
});

test('parse → format → parse is stable', () => {
  for (const s of [
    '"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>;tag=98asjd8',
    '"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ; q = 0.33',
    "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.",
    'sip:j.user@example.com;tag=43251j3j324',
    '<sip:%00%00@host5.example.com>',
  ]) {
    const a = parseNameAddr(s);
    assert.equal(parseNameAddr(formatNameAddr(a)), a, s);
  }
});

test('nameAddrTag', () => {
  assert.is(nameAddrTag('<sip:a@b>;tag=x1'), 'x1');
  assert.is(nameAddrTag('sip:a@b'), undefined);
  assert.is(nameAddrTag('<http://x>;tag=y'), 'y');
  assert.is(nameAddrTag('"broken <sip:a@b>;tag=1'), undefined);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamFramer, contentLength } from '../../../../firmware/src/sip/transport/stream-framer.js';
import type { FramerEvent } from '../../../../firmware/src/sip/transport/stream-framer.js';

function msg(body = '', extra = ''): string {
  return (
    'OPTIONS sip:gw@192.0.2.1 SIP/2.0\r\n' +
    'Via: SIP/2.0/TCP 192.0.2.9:5060;branch=z9hG4bK1\r\n' +
    extra +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
    body
  );
}

function messages(events: FramerEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'message' ? [e.data.toString()] : []));
}

test('one message in one segment', () => {
  const f = new StreamFramer();
  const m = msg('v=0\r\n');
  assert.equal(messages(f.push(Buffer.from(m))), [m]);
  assert.is(f.buffered, 0);
});

test('several messages in one segment', () => {
  const f = new StreamFramer();
  const a = msg('hello');
  const b = msg('');
  const c = msg('world!');
  assert.equal(messages(f.push(Buffer.from(a + b + c))), [a, b, c]);
});

test('a message split at every byte boundary', () => {
  const m = msg('v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\n');
  const bytes = Buffer.from(m + m);
  for (let cut = 1; cut < bytes.length; cut++) {
    const f = new StreamFramer();
    const out = [...f.push(bytes.subarray(0, cut)), ...f.push(bytes.subarray(cut))];
    assert.equal(messages(out), [m, m], `cut at ${cut}`);
  }
});

test('byte-by-byte delivery', () => {
  const m = msg('abc');
  const f = new StreamFramer();
  const out: FramerEvent[] = [];
  for (const b of Buffer.from(m + m)) out.push(...f.push(Buffer.from([b])));
  assert.equal(messages(out), [m, m]);
});

test('body bytes are counted as bytes, not characters', () => {
  const body = 'é€😀';
  const m = msg(body);
  const f = new StreamFramer();
  const out = f.push(Buffer.from(m + m));
  assert.equal(messages(out), [m, m]);
});

test('compact form l: is Content-Length', () => {
  const m = 'OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK2\r\nl: 3\r\n\r\nabc';
  const f = new StreamFramer();
  assert.equal(messages(f.push(Buffer.from(m))), [m]);
});

test('double CRLF between messages is a ping; single CRLFs are skipped', () => {
  const m = msg('x');
  const f = new StreamFramer();
  const out = f.push(Buffer.from('\r\n\r\n' + m + '\r\n' + m + '\r\n\r\n\r\n\r\n'));
  assert.equal(
    out.map((e) => e.type),
    ['ping', 'message', 'message', 'ping', 'ping'],
  );
});

test('a ping split across segments is still a ping', () => {
  const f = new StreamFramer();
  assert.equal(f.push(Buffer.from('\r\n')), []);
  assert.equal(f.push(Buffer.from('\r')), []);
  assert.equal(
    f.push(Buffer.from('\n')).map((e) => e.type),
    ['ping'],
  );
});

test('a single CRLF (pong) followed by a message is skipped', () => {
  const m = msg();
  const f = new StreamFramer();
  assert.equal(f.push(Buffer.from('\r\n')), []);
  const out = f.push(Buffer.from(m));
  assert.equal(
    out.map((e) => e.type),
    ['message'],
  );
  assert.equal(messages(out), [m]);
});

test('missing Content-Length is an error and kills the stream', () => {
  const f = new StreamFramer();
  const out = f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n'));
  assert.is(out.length, 1);
  const e = out[0]!;
  assert.is(e.type, 'error');
  if (e.type === 'error') {
    assert.match(e.reason, /missing Content-Length/);
    assert.ok(e.head, 'the header block is handed back for a 400');
  }
  assert.ok(f.failed);
  assert.equal(f.push(Buffer.from(msg())), []);
});

test('invalid or conflicting Content-Length', () => {
  assert.match(String(contentLength(Buffer.from('X\r\nContent-Length: abc\r\n\r\n'))), /invalid/);
  assert.match(String(contentLength(Buffer.from('X\r\nContent-Length: 1\r\nl: 2\r\n\r\n'))), /conflicting/);
  assert.is(contentLength(Buffer.from('X\r\nContent-Length: 7\r\nl: 7\r\n\r\n')), 7);
  assert.is(contentLength(Buffer.from('X\r\ncontent-length :  12 \r\n\r\n')), 12);
});

test('header block over the cap is an error, even without its end', () => {
  const f = new StreamFramer({ maxHeaderBytes: 1024 });
  const out = f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nX-Long: ' + 'a'.repeat(2000)));
  assert.equal(
    out.map((e) => e.type),
    ['error'],
  );
  assert.ok(f.failed);
  assert.is(f.buffered, 0);
});

test('header cap is enforced when headers arrive in small pieces', () => {
  const f = new StreamFramer({ maxHeaderBytes: 256 });
  let failed = false;
  for (let i = 0; i < 100 && !failed; i++) {
    const ev = f.push(Buffer.from(`X-H${i}: ${'b'.repeat(10)}\r\n`));
    failed = ev.some((e) => e.type === 'error');
  }
  assert.ok(failed);
  assert.ok(f.buffered <= 256);
});

test('a body larger than the cap is refused before it is buffered', () => {
  const f = new StreamFramer({ maxBodyBytes: 100 });
  const out = f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 101\r\n\r\n'));
  assert.equal(
    out.map((e) => e.type),
    ['error'],
  );
});

test('a large body split in many chunks is assembled once', () => {
  const body = 'z'.repeat(50_000);
  const m = msg(body);
  const f = new StreamFramer();
  const bytes = Buffer.from(m);
  const out: FramerEvent[] = [];
  for (let i = 0; i < bytes.length; i += 1000) out.push(...f.push(bytes.subarray(i, i + 1000)));
  assert.equal(messages(out), [m]);
});

test.run();

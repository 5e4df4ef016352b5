/**
 * The harness's own parsers and generators: netstrings (baresip ctrl_tcp),
 * SIPp statistics CSV, SIPp injection files, baresip config/account lines, and
 * a generated Kamailio config that `kamailio -c` accepts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baresipAccountLine, baresipConfig } from '../../support/baresip.js';
import type { BaresipOptions } from '../../support/baresip.js';
import { checkKamailioConfig, kamailioConfig } from '../../support/kamailio.js';
import { encodeNetstring, NetstringDecoder } from '../../support/netstring.js';
import { parseSippDuration, parseSippStatCsv } from '../../support/sipp.js';
import { injectionCsv, makeUsers } from '../../support/users.js';

test('netstrings: encode counts bytes; decode handles splits, batches and errors', () => {
  assert.is(encodeNetstring('{"a":"é"}').toString(), '10:{"a":"é"},');
  const d = new NetstringDecoder();
  const two = Buffer.concat([encodeNetstring('hello'), encodeNetstring('{"x":1}')]);
  assert.equal(d.push(two.subarray(0, 3)), []);
  assert.equal(d.push(two.subarray(3, 12)), ['hello']);
  assert.equal(d.push(two.subarray(12)), ['{"x":1}']);
  assert.equal(new NetstringDecoder().push(Buffer.from('0:,')), ['']);
  assert.throws(() => new NetstringDecoder().push(Buffer.from('5:hello;')), /comma/);
  assert.throws(() => new NetstringDecoder().push(Buffer.from('x5:hello,')), /length/);
  assert.throws(() => new NetstringDecoder(10).push(Buffer.from('11:')), /exceeds/);
});

// Header and one row as SIPp 3.6.1 wrote them (-trace_stat), columns cut after ResponseTime1.
const STAT_HEAD =
  'StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TargetRate;CallRate(P);CallRate(C);IncomingCall(P);IncomingCall(C);OutgoingCall(P);OutgoingCall(C);TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);FailedCannotSendMessage(P);FailedCannotSendMessage(C);FailedMaxUDPRetrans(P);FailedMaxUDPRetrans(C);FailedUnexpectedMessage(P);FailedUnexpectedMessage(C);ResponseTime1(P);ResponseTime1(C);ResponseTime1StDev(P);ResponseTime1StDev(C);';
const STAT_ROW =
  '2026-11-22\t04:24:18.239410\t1795321458.239410;2026-11-22\t04:24:18.643340\t1795321458.643340;2026-11-22\t04:24:18.643477\t1795321458.643477;00:00:00;00:00:01;10;0;9.8765;0;0;0;20;20;0;0;19;0;1;0;0;0;0;0;1;00:00:00:000000;00:00:00:001250;00:00:00:000000;00:00:00:000100;';

test('parseSippStatCsv reads the last row', () => {
  const s = parseSippStatCsv(`${STAT_HEAD}\n${STAT_ROW.replace('9.8765', '1')}\n${STAT_ROW}\n`);
  assert.ok(s);
  assert.is(s!.created, 20);
  assert.is(s!.outgoing, 20);
  assert.is(s!.successful, 19);
  assert.is(s!.failed, 1);
  assert.is(s!.callRate, 9.8765);
  assert.is(s!.elapsedSec, 1);
  assert.is(s!.responseTimeMs['1'], 1.25);
  assert.equal(s!.failures, { FailedCall: 1, FailedUnexpectedMessage: 1 });
  assert.is(parseSippStatCsv(STAT_HEAD), undefined);
  assert.is(parseSippDuration('01:02:03:004000'), 3723004);
  assert.is(parseSippDuration('00:00:05'), 5000);
});

test('injection CSV: the shared field layout, and unsafe values refused', () => {
  const csv = injectionCsv([
    { user: '201', password: 'pw-201', domain: '10.90.1.1:5060', target: '202' },
    { user: '202', password: 'pw-202', domain: '10.90.1.1' },
  ]);
  assert.is(
    csv,
    'SEQUENTIAL\n201;[authentication username=201 password=pw-201];10.90.1.1:5060;202\n202;[authentication username=202 password=pw-202];10.90.1.1;\n',
  );
  assert.throws(() => injectionCsv([{ user: '201', password: 'a;b', domain: 'x' }]), /unsafe/);
  assert.throws(() => injectionCsv([{ user: '201', password: 'a b]', domain: 'x' }]), /unsafe/);
  assert.throws(() => injectionCsv([]));
  const users = makeUsers(3, { first: 500 });
  assert.equal(users.map((u) => u.user), ['500', '501', '502']);
  assert.is(new Set(users.map((u) => u.password)).size, 3);
});

const phone: BaresipOptions = { name: 'p', listenIp: '10.90.1.2', sipPort: 5070, user: '201', toneWav: '/tmp/t.wav' };

test('baresip account line: registering and peer-to-peer, codecs with full names', () => {
  assert.is(baresipAccountLine(phone), '<sip:201@10.90.1.2:5070>;regint=0;answermode=auto');
  assert.is(
    baresipAccountLine({ ...phone, displayName: 'Dr "A"', answerMode: 'manual', codecs: ['G722', 'PCMA'], registrar: { host: '10.90.1.1', port: 5060, password: 's3cret' } }),
    '"Dr A" <sip:201@10.90.1.1:5060>;auth_pass=s3cret;regint=300;answermode=manual;audio_codecs=G722/16000/1,PCMA/8000/1',
  );
});

test('baresip config: the keys baresip 1.0 needs', () => {
  const cfg = baresipConfig({ ...phone, rtpPorts: [20000, 20099], extraConfig: { sip_trans_def: 'udp' } }, '/tmp/rec');
  const kv = new Map(cfg.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => [l.split(/\t+/)[0], l.split(/\t+/)[1]]));
  assert.is(kv.get('sip_listen'), '10.90.1.2:5070');
  assert.is(kv.get('ctrl_tcp_listen'), '127.0.0.1:5075');
  assert.is(kv.get('audio_source'), 'aufile,/tmp/t.wav');
  assert.is(kv.get('audio_player'), 'aubridge,pgwt-null');
  assert.is(kv.get('net_interface'), '10.90.1.2');
  assert.is(kv.get('snd_path'), '/tmp/rec');
  assert.is(kv.get('rtp_ports'), '20000-20099');
  assert.is(kv.get('sip_trans_def'), 'udp');
  for (const m of ['ctrl_tcp.so', 'menu.so', 'sndfile.so', 'aufile.so', 'g711.so', 'g722.so']) assert.match(cfg, new RegExp(`\\t${m.replace('.', '\\.')}\\n`));
  assert.not.match(cfg, /stdio\.so|alsa\.so/);
});

test('generated Kamailio configs pass kamailio -c (registrar, and proxy with INVITE challenge)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-kcfg-'));
  try {
    for (const [name, extra] of [['reg', {}], ['proxy', { proxy: true, challengeInvites: true, transports: ['udp', 'tcp'] as Array<'udp' | 'tcp'> }]] as const) {
      const text = kamailioConfig({ listenIp: '127.0.0.1', port: 5099, users: makeUsers(50), ...extra });
      assert.match(text, /\$sht\(users=>1049\) = "pw-1049-x7";/);
      const path = join(dir, `${name}.cfg`);
      writeFileSync(path, text);
      await checkKamailioConfig(path);
    }
    assert.throws(() => kamailioConfig({ listenIp: '127.0.0.1', users: [{ user: 'a"b', password: 'x' }] }), /characters/);
    writeFileSync(join(dir, 'bad.cfg'), 'request_route { nonsense(); }\n');
    await checkKamailioConfig(join(dir, 'bad.cfg')).then(
      () => assert.unreachable('a broken config passed'),
      (e: Error) => assert.match(e.message, /invalid/),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

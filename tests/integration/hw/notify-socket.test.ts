/**
 * The sd_notify path end to end on a real AF_UNIX datagram socket: socat
 * listens where systemd would ($NOTIFY_SOCKET) and prints what arrives.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SocatNotifySender, socatNotifyAddress } from '../../../hw/watchdog/notify-sender.js';
import { SystemdWatchdog } from '../../../hw/watchdog/watchdog-device.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('socat addresses for path and abstract sockets', () => {
  assert.is(socatNotifyAddress('/run/systemd/notify'), 'UNIX-SENDTO:/run/systemd/notify');
  assert.is(socatNotifyAddress('@/org/freedesktop/systemd1/notify/123'), 'ABSTRACT-SENDTO:/org/freedesktop/systemd1/notify/123');
  assert.throws(() => socatNotifyAddress('relative'));
});

test('READY, WATCHDOG and STOPPING reach the notify socket', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-notify-'));
  const socket = join(dir, 'notify');
  const receiver = spawn('socat', ['-u', `UNIX-RECV:${socket}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let got = '';
  receiver.stdout.on('data', (d: Buffer) => (got += d.toString()));
  try {
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(20);
    const wd = new SystemdWatchdog(new SocatNotifySender({ socket }));
    await wd.open();
    await sleep(50);
    await wd.pet();
    await sleep(50);
    await wd.pet();
    await sleep(50);
    await wd.close({ disarm: true });
    for (let i = 0; i < 100 && !got.includes('STOPPING=1'); i++) await sleep(20);
    assert.equal(got.split('\n').filter(Boolean), ['READY=1', 'WATCHDOG=1', 'WATCHDOG=1', 'STOPPING=1']);
  } finally {
    receiver.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing socket makes send fail rather than hang', async () => {
  const sender = new SocatNotifySender({ socket: join(tmpdir(), `pgw-no-such-${process.pid}`) });
  let failed = false;
  for (let i = 0; i < 20 && !failed; i++) {
    try {
      await sender.send('WATCHDOG=1');
      await sleep(50);
    } catch {
      failed = true;
    }
  }
  assert.ok(failed);
  await sender.close();
});

test.run();

/**
 * Free ports for peers on 127.0.0.1 in the root namespace, where parallel test
 * runs share the port space. (Inside a test's own namespaces any fixed port is
 * fine: nothing else lives there.)
 *
 * The kernel picks a free port; we close the socket and hand the number out.
 * Another process could grab it in between, so callers that bind should be
 * ready to retry, but in practice the window is a few milliseconds.
 */
import dgram from 'node:dgram';
import net from 'node:net';

/** A UDP port free on `host` right now. With `alsoTcp`, one free for TCP as well (SIP peers bind both). */
export async function freeUdpPort(host = '127.0.0.1', alsoTcp = true): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = dgram.createSocket('udp4');
      s.on('error', reject);
      s.bind(0, host, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    if (!alsoTcp || (await tcpFree(host, port))) return port;
  }
  throw new Error('no free UDP+TCP port found');
}

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** A base port with base .. base+stride-1 all free right now (e.g. baresip: SIP, SIP+1 TLS, SIP+5 ctrl: stride 10). */
export async function freePortBlock(stride: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freeUdpPort(host);
    if (base + stride > 65535) continue;
    let ok = true;
    for (let p = base + 1; p < base + stride && ok; p++) ok = await tcpFree(host, p);
    if (ok) return base;
  }
  throw new Error(`no free block of ${stride} ports found`);
}

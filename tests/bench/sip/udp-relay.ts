/**
 * The smallest user-space UDP relay Node can be: every datagram that
 * arrives on --listen is sent, unchanged, to --to. rtp-probe.ts times a path
 * through it next to the path through the gateway, so the figures separate
 * what any relay process costs on this machine (a wake-up of another
 * process, a trip through its event loop, the wait for a CPU on a busy box)
 * from what the gateway's own relay code adds.
 *
 *   node --import tsx udp-relay.ts --listen 55008 --to 55006 [--host 127.0.0.1] [--delay-ms 5]
 *
 * --delay-ms holds each datagram that long first: a relay with a known added
 * delay, for checking that the probe measures it (tests/integration/harness).
 */
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { listen: { type: 'string' }, to: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, 'delay-ms': { type: 'string', default: '0' } } });
const host = String(values.host);
const to = Number(values.to);
const delayMs = Number(values['delay-ms']);
const sock = createSocket('udp4');
sock.on('message', (msg) => (delayMs > 0 ? setTimeout(() => sock.send(msg, to, host), delayMs) : sock.send(msg, to, host)));
sock.bind(Number(values.listen), host, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));

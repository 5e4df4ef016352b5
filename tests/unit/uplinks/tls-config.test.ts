/** The practice checks TLS uplinks add (issue 6): an uplink reached over TLS needs a TLS listening point. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validatePractice } from '../../../firmware/src/config/validate.js';

function doc(uplinks: Record<string, unknown>, listen: Array<Record<string, unknown>> = [{ transport: 'udp' }]): Record<string, unknown> {
  return {
    version: 1,
    site: { name: 'Riverside Surgery' },
    sip: { listen },
    extensions: [{ number: '201', name: 'Reception 1', password: 'pw-201-secret' }],
    uplinks,
  };
}

const TLS_LISTEN = [{ transport: 'udp' }, { transport: 'tls', port: 5061, tls: { cert: '/etc/pgw/sip.pem', key: '/etc/pgw/sip.key' } }];

test('a sips: cloud or a transport=tls trunk without a TLS listening point is refused at its URI', () => {
  const r = validatePractice(
    doc({
      cloud: { proxy: 'sips:sbc.example.net' },
      trunks: [
        { name: 'a', registrar: 'sip:carrier.example;transport=tls', username: 'u', password: 'trunk-secret' },
        { name: 'b', registrar: 'sip:carrier.example', proxy: 'sip:edge.carrier.example;transport=TLS', username: 'u', password: 'trunk-secret' },
        { name: 'c', registrar: 'sip:carrier.example;transport=tcp', username: 'u', password: 'trunk-secret' },
      ],
    }),
  );
  assert.not.ok(r.ok);
  if (r.ok) return;
  const paths = r.errors.map((e) => e.path).sort();
  assert.equal(paths, ['practice.uplinks.cloud.proxy', 'practice.uplinks.trunks[0].registrar', 'practice.uplinks.trunks[1].proxy']);
  assert.match(r.errors[0]!.message, /tls listening point/);
});

test('with a TLS listening point the same uplinks are fine, with their CA, client certificate and server name', () => {
  const r = validatePractice(
    doc(
      {
        cloud: { proxy: 'sips:sbc.example.net', tls: { ca: '/etc/pgw/cloud-ca.pem', serverName: 'sbc.example.net' } },
        trunks: [
          {
            name: 'a',
            registrar: 'sip:carrier.example;transport=tls',
            username: 'u',
            password: 'trunk-secret',
            tls: { ca: '/etc/pgw/carrier-ca.pem', cert: '/etc/pgw/trunk.pem', key: '/etc/pgw/trunk.key' },
          },
        ],
      },
      TLS_LISTEN,
    ),
  );
  if (!r.ok) assert.unreachable(JSON.stringify(r.errors));
});

test.run();

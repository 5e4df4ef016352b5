import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { CommandError, CommandRouter } from '../../../firmware/src/sync/commands.js';
import type { PublishOptions } from '../../../firmware/src/sync/mqtt-connection.js';
import type { CommandReply } from '../../../firmware/src/sync/payloads.js';

function setup() {
  const out: Array<{ topic: string; reply: CommandReply; opts: PublishOptions }> = [];
  const r = new CommandRouter({
    clock: new FakeClock(),
    logger: silentLogger(),
    publish: async (topic, payload, opts) => {
      out.push({ topic, reply: JSON.parse(payload) as CommandReply, opts });
    },
  });
  r.register('echo', async (p) => ({ got: p }));
  r.register('nope', async () => {
    throw new CommandError('not-available', 'no uplinks yet');
  });
  r.register('boom', async () => {
    throw new Error('kaput');
  });
  const msg = (payload: string, responseTopic?: string, corr?: string) => ({
    topic: 'x',
    payload: Buffer.from(payload),
    retain: false,
    responseTopic,
    correlationData: corr === undefined ? undefined : Buffer.from(corr),
  });
  return { r, out, msg };
}

test('the reply goes to the Response Topic with the Correlation Data, QoS 1, not retained', async () => {
  const { r, out, msg } = setup();
  await r.handle('echo', msg('{"a":1}', 'cloud/replies/42', 'corr-42'));
  assert.is(out.length, 1);
  assert.is(out[0]!.topic, 'cloud/replies/42');
  assert.equal(out[0]!.reply, { ok: true, command: 'echo', result: { got: { a: 1 } }, at: out[0]!.reply.at });
  assert.is(out[0]!.opts.qos, 1);
  assert.is(out[0]!.opts.retain, false);
  assert.is(out[0]!.opts.properties?.correlationData?.toString(), 'corr-42');
});

test('unknown command, bad JSON, a handler error and a typed CommandError each get an error reply', async () => {
  const { r, out, msg } = setup();
  await r.handle('frobnicate', msg('', 'rt'));
  await r.handle('echo', msg('{nope', 'rt'));
  await r.handle('boom', msg('', 'rt'));
  await r.handle('nope', msg('', 'rt'));
  const errs = out.map((o) => (o.reply.ok ? 'ok' : o.reply.error.code));
  assert.equal(errs, ['unknown-command', 'bad-request', 'failed', 'not-available']);
  const first = out[0]!.reply;
  assert.ok(!first.ok && /unknown command "frobnicate"/.test(first.error.message) && first.error.message.includes('echo'));
});

test('no Response Topic: run, not answered', async () => {
  const { r, out, msg } = setup();
  const reply = await r.handle('echo', msg('[1]'));
  assert.is(reply.ok, true);
  assert.is(out.length, 0);
});

test.run();

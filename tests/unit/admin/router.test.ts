import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Router } from '../../../firmware/src/admin/router.js';

const router = new Router<string>().add('GET', '/api/v1/status', 'status').add('GET', '/api/v1/calls/:id', 'call').add('POST', '/api/v1/calls/:id', 'act');

test('exact paths, with or without a trailing slash', () => {
  assert.equal(router.match('GET', '/api/v1/status'), { kind: 'found', handler: 'status', params: {} });
  assert.equal(router.match('GET', '/api/v1/status/'), { kind: 'found', handler: 'status', params: {} });
});

test('parameters are decoded', () => {
  assert.equal(router.match('GET', '/api/v1/calls/a%20b'), { kind: 'found', handler: 'call', params: { id: 'a b' } });
  assert.equal(router.match('GET', '/api/v1/calls/%E0%A4%A'), { kind: 'not-found' });
});

test('HEAD is served by GET routes', () => {
  assert.is(router.match('HEAD', '/api/v1/status').kind, 'found');
});

test('405 lists what is allowed; 404 when no path matches', () => {
  assert.equal(router.match('DELETE', '/api/v1/status'), { kind: 'method-not-allowed', allow: ['GET', 'HEAD'] });
  assert.equal(router.match('PUT', '/api/v1/calls/1'), { kind: 'method-not-allowed', allow: ['GET', 'HEAD', 'POST'] });
  assert.equal(router.match('GET', '/api/v1/statu'), { kind: 'not-found' });
  assert.equal(router.match('GET', '/api/v1/status/extra'), { kind: 'not-found' });
  assert.equal(router.match('GET', '/'), { kind: 'not-found' });
});

test('list gives the routes back', () => {
  assert.equal(router.list()[0], { method: 'GET', path: '/api/v1/status' });
});

test.run();

/**
 * Turns the PBX's call events into what the cloud sync publishes (issue 3):
 * `events` for ringing/answered/ended (so the cloud can pop the patient
 * record on ringing) and one call record per call on `cdr`.
 */
import type { B2buaCall, CallEnd } from '../pbx/b2bua-call.js';
import type { CallEvent, CallRoute } from '../pbx/pbx.js';
import type { CallParty, CallRecordInput, GatewayEvent } from '../sync/payloads.js';

function party(p: { number: string; name: string | null }): CallParty {
  return p.name ? { number: p.number, name: p.name } : { number: p.number };
}

export function callEventFor(e: CallEvent): GatewayEvent {
  const call = e.call;
  const answeredBy = call.answeredBy;
  return {
    type: 'call',
    phase: e.type,
    callId: call.id,
    direction: e.route.direction,
    from: party(call.caller),
    to: party(call.callee),
    ...(answeredBy ? { answeredBy: { number: answeredBy } } : {}),
    ...(e.route.uplink ? { uplink: e.route.uplink } : {}),
    ...(call.huntGroup ? { huntGroup: call.huntGroup } : {}),
    ...(e.type === 'ended' ? { disposition: e.end.disposition } : {}),
  };
}

export function callRecordFor(call: B2buaCall, end: CallEnd, route: CallRoute): CallRecordInput {
  const endedAt = call.endedAt ?? call.startedAt;
  const answeredBy = call.answeredBy;
  const waitUntil = call.answeredAt ?? endedAt;
  return {
    callId: call.id,
    direction: route.direction,
    from: party(call.caller),
    to: party(call.callee),
    ...(answeredBy ? { answeredBy: { number: answeredBy } } : {}),
    ...(route.uplink ? { uplink: route.uplink } : {}),
    arrivedAt: new Date(call.startedAt).toISOString(),
    ...(call.answeredAt !== null ? { answeredAt: new Date(call.answeredAt).toISOString() } : {}),
    endedAt: new Date(endedAt).toISOString(),
    ...(call.huntGroup ? { huntGroup: call.huntGroup } : {}),
    waitSeconds: Math.round((waitUntil - call.startedAt) / 1000),
    ...(call.answeredAt !== null ? { talkSeconds: Math.round((endedAt - call.answeredAt) / 1000) } : {}),
    disposition: end.disposition,
  };
}

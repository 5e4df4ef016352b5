/**
 * Sending one request inside a dialog (RFC 3261 §12.2.1.1) through the
 * transaction layer, with the UAC-side digest retry (§22.2: the same request
 * again with the next CSeq and credentials, once per realm).
 *
 * Every outcome reaches onFinal exactly once: the final response, or a 408 /
 * 503 stand-in for a timeout / transport error (§8.1.3.1). Provisional
 * responses are dropped here (a session that needs them, the initial INVITE,
 * does not use this). A 2xx retransmitted to an INVITE after its first 2xx
 * is handed to onInvite2xxRetransmission so its ACK can be re-sent.
 */
import type { Dialog } from '../dialog/dialog.js';
import { cseqOf } from '../dialog/header-utils.js';
import { createResponse } from '../message/index.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Endpoint } from '../transport/api.js';
import { AuthRetry, replaceHeader, type CredentialProvider } from './credentials.js';
import type { SessionBody } from './session-body.js';
import type { SessionHost } from './session-types.js';

export interface InDialogSendContext {
  dialog: Dialog;
  host: SessionHost;
  destination: Endpoint;
  credentials: CredentialProvider | undefined;
  tlsServerName?: string;
  onInvite2xxRetransmission: (cseq: number) => void;
}

export interface InDialogSendOptions {
  body?: SessionBody;
  headers?: Array<[string, string]>;
  onFinal: (response: SipResponse, request: SipRequest) => void;
}

export function sendInDialog(ctx: InDialogSendContext, method: string, o: InDialogSendOptions): void {
  const auth = new AuthRetry(ctx.credentials);
  const userAgent: Array<[string, string]> = ctx.host.config.userAgent ? [['User-Agent', ctx.host.config.userAgent]] : [];
  let extra = o.headers ?? [];
  let done = false;
  const attempt = (): void => {
    const req = ctx.dialog.createRequest(method, {
      via: ctx.host.via(ctx.destination),
      headers: [...extra, ...userAgent],
      ...(o.body ? { body: o.body.body, contentType: o.body.contentType } : {}),
    });
    const seq = cseqOf(req).seq;
    let final = false;
    const finish = (r: SipResponse): void => {
      if (final || done) return;
      done = true;
      o.onFinal(r, req);
    };
    ctx.host.transactions.sendRequest(req, {
      destination: ctx.destination,
      ...(ctx.tlsServerName ? { tlsServerName: ctx.tlsServerName } : {}),
      handlers: {
        onResponse: (r) => {
          if (r.status < 200) return;
          if (final) {
            if (method === 'INVITE' && r.status < 300) ctx.onInvite2xxRetransmission(seq);
            return;
          }
          const hdr = r.status === 401 || r.status === 407 ? auth.answer(r, req) : undefined;
          if (hdr && !done) {
            final = true;
            extra = replaceHeader(extra, hdr[0], hdr[1]);
            attempt();
            return;
          }
          finish(r);
          final = true;
        },
        onTimeout: () => finish(createResponse(req, 408)),
        onTransportError: () => finish(createResponse(req, 503)),
      },
    });
  };
  attempt();
}

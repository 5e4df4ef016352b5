/**
 * UAC-side authentication for requests the UA sends (RFC 3261 §22.2–22.3):
 * on 401/407, resend once with credentials for the challenge's realm. A
 * second challenge for a realm already answered means the credentials are
 * wrong, so we stop, unless the server says the nonce was merely stale
 * (stale=true, RFC 7616 §3.3), which earns one more try. That bounds the loop
 * whatever the server does.
 */
import { answerChallenge, pickChallenge } from '../auth/digest-client.js';
import type { SipRequest, SipResponse } from '../message/types.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Fixed credentials, or a lookup by realm (a trunk may have several). */
export type CredentialProvider = Credentials | ((realm: string) => Credentials | undefined);

function resolve(provider: CredentialProvider, realm: string): Credentials | undefined {
  return typeof provider === 'function' ? provider(realm) : provider;
}

const MAX_ATTEMPTS = 4;

export class AuthRetry {
  private readonly tried = new Map<string, number>();
  private attempts = 0;

  constructor(private readonly provider: CredentialProvider | undefined) {}

  /**
   * The header to add to the retried request, or undefined to give up and
   * hand the 401/407 to the caller.
   */
  answer(response: SipResponse, request: SipRequest): [string, string] | undefined {
    if (!this.provider || (response.status !== 401 && response.status !== 407)) return undefined;
    const offer = pickChallenge(response);
    if (!offer) return undefined;
    const realm = offer.params.get('realm') ?? '';
    const stale = offer.params.get('stale')?.toLowerCase() === 'true';
    const before = this.tried.get(realm) ?? 0;
    if (before >= 1 && !(stale && before < 2)) return undefined;
    if (this.attempts >= MAX_ATTEMPTS) return undefined;
    const creds = resolve(this.provider, realm);
    if (!creds) return undefined;
    this.tried.set(realm, before + 1);
    this.attempts++;
    return answerChallenge({ response, request, username: creds.username, password: creds.password });
  }
}

/** Copy of `headers` with every line named `name` replaced by one line (or appended). */
export function replaceHeader(headers: Array<[string, string]>, name: string, value: string): Array<[string, string]> {
  const lower = name.toLowerCase();
  return [...headers.filter(([n]) => n.toLowerCase() !== lower), [name, value]];
}

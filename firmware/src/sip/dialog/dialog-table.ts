/**
 * The dialogs of a UA core, by id (RFC 3261 §12.2.2: a request with a To tag
 * is matched to a dialog by Call-ID, To tag = local tag and From tag = remote
 * tag). Owned by the UA core; sessions add and remove their dialogs.
 */
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Dialog } from './dialog.js';
import { dialogKey, type DialogId } from './dialog-id.js';
import { tagOf } from './header-utils.js';

export class DialogTable<T = Dialog> {
  private readonly byKey = new Map<string, T>();

  add(id: DialogId, value: T): void {
    this.byKey.set(dialogKey(id), value);
  }

  get(id: DialogId): T | undefined {
    return this.byKey.get(dialogKey(id));
  }

  remove(id: DialogId): boolean {
    return this.byKey.delete(dialogKey(id));
  }

  size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<T> {
    return this.byKey.values();
  }

  /** The id a request we received would belong to, or undefined when it has no To tag (out of dialog). */
  static requestId(request: SipRequest): DialogId | undefined {
    const localTag = tagOf(request.headers.get('To'));
    const callId = request.headers.get('Call-ID')?.trim();
    if (localTag === undefined || callId === undefined) return undefined;
    return { callId, localTag, remoteTag: tagOf(request.headers.get('From')) ?? '' };
  }

  /** The id a response we received would belong to (our tag in From, theirs in To). */
  static responseId(response: SipResponse): DialogId | undefined {
    const localTag = tagOf(response.headers.get('From'));
    const remoteTag = tagOf(response.headers.get('To'));
    const callId = response.headers.get('Call-ID')?.trim();
    if (localTag === undefined || remoteTag === undefined || callId === undefined) return undefined;
    return { callId, localTag, remoteTag };
  }

  matchRequest(request: SipRequest): T | undefined {
    const id = DialogTable.requestId(request);
    return id ? this.get(id) : undefined;
  }

  matchResponse(response: SipResponse): T | undefined {
    const id = DialogTable.responseId(response);
    return id ? this.get(id) : undefined;
  }
}

/**
 * A dialog is identified by Call-ID, local tag and remote tag (RFC 3261 §12).
 * "Local" and "remote" are from our side: for a request we receive, the local
 * tag is in To and the remote tag in From; for a response we receive, the
 * local tag is in From and the remote tag in To.
 */
export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

/** A string key for maps. Tags and Call-ID cannot contain NUL, so it is unambiguous. */
export function dialogKey(id: DialogId): string {
  return `${id.callId}\u0000${id.localTag}\u0000${id.remoteTag}`;
}

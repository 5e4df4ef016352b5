/** The UA layer: INVITE sessions, the UA core and client registration. */
export { UserAgentCore } from './user-agent-core.js';
export type { UserAgentCoreOptions, UserAgentDelegate, OutOfDialogRequestOptions, OutOfDialogResult } from './user-agent-core.js';
export { InviteSession } from './invite-session.js';
export type {
  InviteSessionState,
  InviteSessionEvents,
  SessionEndCause,
  SessionEndInfo,
  SessionMediaHandler,
  OfferContext,
  OutgoingInviteOptions,
  IncomingSessionOptions,
} from './session-types.js';
export { Registration } from './registration.js';
export type { RegistrationOptions, RegistrationState, RegistrationEvents } from './registration.js';
export type { SessionBody } from './session-body.js';
export { sessionBodyOf } from './session-body.js';
export type { Credentials, CredentialProvider } from './credentials.js';
export type { UaConfig } from './ua-config.js';
export { uaConfig, DEFAULT_ALLOW } from './ua-config.js';
export type { SessionTimerConfig } from './session-timer.js';
export { DEFAULT_SESSION_TIMER } from './session-timer.js';
export type { OfferAnswerState, OfferCarrier } from './offer-answer.js';
export { glareRetryDelayMs } from './glare.js';

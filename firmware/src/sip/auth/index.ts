/** Digest authentication, both sides (RFC 3261 §22, RFC 7616, RFC 8760). */
export { createDigestServer, uriLooselyMatches } from './digest-server.js';
export type {
  DigestServer,
  DigestServerOptions,
  DigestLookup,
  DigestSecret,
  DigestVerifyResult,
  DigestFailReason,
} from './digest-server.js';
export { answerChallenge, pickChallenge, challengeRealm } from './digest-client.js';
export type { AnswerChallengeOptions } from './digest-client.js';
export { computeHa1, computeDigestResponse, SUPPORTED_ALGORITHMS } from './digest-hash.js';
export type { DigestAlgorithm, DigestInputs } from './digest-hash.js';
export { parseAuthHeader, formatDigest } from './digest-params.js';
export type { AuthChallenge } from './digest-params.js';

/**
 * The provider's typed client surface for other platforms (ARCHITECTURE.md §3: actors meet only through their
 * clients): the wire of the business-terminal relay as an issuer calls it (`POST /v1/relay/terminals/{id}/scripts`,
 * its limits, answers and problem codes). The issuer's relay channel (issuer/terminal-access.ts) is built on it.
 */
export { MAX_RELAY_COMMANDS, RELAY_PATHS, TERMINAL_ID, type RelayScriptAnswer } from './relay/api.ts';
export { RelayError, isRelayErrorCode, type RelayErrorCode } from './relay/errors.ts';

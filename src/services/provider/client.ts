/**
 * The provider's typed client surface for other platforms (docs/architecture.md §3: actors meet only through their
 * clients): the wire of the business-terminal relay — as an issuer calls it (`POST /v1/relay/terminals/{id}/scripts`,
 * its limits, answers and problem codes; issuer/terminal-access.ts is built on it) and as a business terminal
 * (src/terminal) calls it (paths, certificate names, service request views).
 */
export {
  MAX_RELAY_COMMANDS,
  RELAY_PATHS,
  TERMINAL_ID,
  terminalAgentId,
  terminalCommonName,
  type RelayScriptAnswer,
  type ServiceRequestView,
} from '../common/relay-api.ts';
export { RelayError, isRelayErrorCode, type RelayErrorCode } from '../common/relay-errors.ts';

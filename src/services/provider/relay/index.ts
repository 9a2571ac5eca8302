/** The provider's terminal relay: business terminals reach the provider; the provider and the issuer reach the card. */
export { terminalRelay, type TerminalRelayPluginOptions } from './plugin.ts';
export { TerminalRelay, type TerminalRelayOptions, type ServiceRequestHandler, type RelayCaller } from './relay.ts';
export { terminalCardAccess, TerminalChannel } from './card-access.ts';
export { RelayError, RELAY_STATUS, relayProblem, type RelayErrorCode } from '../../common/relay-errors.ts';
export { type RelayFaults, requireTerminal } from './routes-terminal.ts';
export {
  RELAY_PATHS,
  TERMINAL_ID,
  TERMINAL_CN_PREFIX,
  MAX_RELAY_COMMANDS,
  terminalCommonName,
  terminalIdOf,
  terminalAgentId,
  type RelayScriptBody,
  type RelayScriptAnswer,
  type ServiceRequestBody,
  type ServiceRequestView,
  type ServiceRequestState,
} from '../../common/relay-api.ts';

/** The business terminal (POS): a reader at a provider's counter, relaying the platforms' APDUs to the card. */
export { Terminal, type TerminalOptions, type ServiceRequestOptions } from './terminal.ts';
export { TerminalAgent, type TerminalAgentOptions } from './ram-agent.ts';
export { TerminalError, type TerminalErrorCode } from './errors.ts';
export { runScript, SW_NO_DIAGNOSIS, type ReaderRun } from './run-script.ts';
export { readCardId } from './card-id.ts';
export { issueTerminalIdentity } from './identity.ts';

/**
 * RAM over HTTP (GlobalPlatform Card Spec v2.2 Amendment B) codecs, sans-IO: the expanded remote
 * command format of ETSI TS 102 226 §5.2, the X-Admin-* headers and media types, the push trigger, and
 * the agent-side script runner, and the agent's side of an administration session.
 */
export {
  TAG,
  BAD_FORMAT,
  encodeCommandScript,
  decodeCommandScript,
  encodeResponseScript,
  decodeResponseScript,
  scriptApdus,
  type BadFormat,
  type LengthForm,
  type CommandScript,
  type CommandScriptItem,
  type ResponseScript,
  type ResponseScriptInit,
} from './script.ts';
export {
  ADMIN_PROTOCOL,
  ADMIN_HEADER,
  MEDIA_TYPE_SCRIPT,
  MEDIA_TYPE_RESPONSE,
  CONTENT_TYPE_SCRIPT,
  CONTENT_TYPE_RESPONSE,
  SCRIPT_STATUSES,
  parseAdminProtocol,
  parseContentType,
  parseScriptStatus,
  parseResume,
  parseAidUri,
  formatAidUri,
  parseTargetedApplication,
  formatTargetedApplication,
  parseAgentId,
  formatAgentId,
  parseNextUri,
  type ScriptStatus,
  type AgentId,
} from './headers.ts';
export { executeScript, continuesScript, type ExecutedScript } from './execute.ts';
export { encodeTrigger, parseTrigger, type PushTrigger } from './trigger.ts';
export {
  RamClientSession,
  RamClientError,
  runRamClientSession,
  runTargetedScript,
  selectApplication,
  resumeRequest,
  isConnectionLost,
  type RamRequest,
  type RamReply,
  type RamExchange,
  type ReceivedScript,
  type ScriptOutcome,
  type ScriptExecutor,
  type SessionStep,
  type RamClientErrorCode,
  type RamClientSessionOptions,
  type RamClientOptions,
  type RamRetryPolicy,
  type RamClientEvent,
  type RamSessionSummary,
} from './client-session.ts';

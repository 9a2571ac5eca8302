export { REDACTED, redactSecrets, isSecretName } from './redact.ts';
export { type LogLevel, LOG_LEVELS, type LogDestination, type LogOptions, pinoOptions, safeLog, memoryDestination } from './logger.ts';

/** The append-only, hash-chained audit log. */
export { AuditLog, verifyAuditLog, auditRecordHash, checkAuditEntry, ZERO_HASH } from './log.ts';
export type { AuditEntry, AuditRecord, AuditDetails, AuditVerification, AuditLogOptions, VerifyOptions } from './log.ts';
export { AUDIT_MIGRATION, AUDIT_MIGRATIONS } from './schema.ts';
export { AuditError, type AuditErrorCode } from './errors.ts';
export { canonicalJson, type JsonValue } from './canonical-json.ts';
export { findForbiddenField, forbiddenField } from './sensitive-fields.ts';

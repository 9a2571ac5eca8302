/**
 * The flows' `Auditor` on the platform's hash-chained audit log (src/platform/audit). Records are appended
 * inside the caller's transaction, so a record commits or rolls back with the change it describes. The audit
 * log checks `details` for key material and refuses it (AuditError FORBIDDEN_FIELD) before writing anything.
 */
import type { AuditDetails, AuditLog } from '../../platform/audit/log.ts';
import type { Auditor } from './deps.ts';

/** An Auditor appending to `log` inside the caller's transaction. */
export function auditLogAuditor(log: Pick<AuditLog, 'append'>): Auditor {
  return async (tx, record) => {
    await log.append({ actor: record.actor, action: record.action, subject: record.subject, details: record.details as AuditDetails }, tx);
  };
}

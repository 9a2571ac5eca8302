/** Typed audit-log errors. */
import { OpentsmError } from '../../core/errors.ts';

export type AuditErrorCode =
  /** `details` holds a field named like key material (see sensitive-fields.ts). */
  | 'FORBIDDEN_FIELD'
  /** The entry is not storable: empty actor/action, non-JSON details, too large. */
  | 'BAD_ENTRY'
  /** The audit tables are missing: include AUDIT_MIGRATIONS in the service's migrations. */
  | 'NOT_INITIALISED';

export class AuditError extends OpentsmError {
  declare readonly code: AuditErrorCode;
  constructor(code: AuditErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

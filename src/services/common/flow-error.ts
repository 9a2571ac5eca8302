/** Errors of platform flows; defined beside the flow runner (platform/flows/errors.ts), which decides by them. */
export { FlowError, type FlowErrorCode } from '../../platform/flows/errors.ts';

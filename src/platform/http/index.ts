export { createService, type ServiceOptions, DEFAULT_BODY_LIMIT } from './service.ts';
export { sendProblem, toProblem, problemInstance, type ValidationIssue } from './problems.ts';
export { checkRouteContract, statusDeclared } from './contract.ts';
export { OpenApiCollector, openApiPath, type OpenApiInfo } from './openapi.ts';
export { requirePeer, type IdentifyPeer } from './peer.ts';
export { REQUEST_ID_HEADER, genRequestId } from './request-id.ts';
export { type HealthCheck } from './health.ts';
export { PlatformClient, RemoteProblemError, type RemoteErrorCode, type ClientOptions, type CallOptions, type ClientResponse } from './client.ts';

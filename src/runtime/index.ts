/** The composition root (docs/architecture.md §3 runtime/): what the CLI, the scenarios and the benchmarks start. */
export { startPlatform, DEFAULT_PROVIDER_ID, type Platform, type PlatformOptions } from './platform.ts';
export { PLATFORM_FILE, PLATFORM_FORMAT, type PlatformDescriptor } from './descriptor.ts';
export { anyPorts, platformConfig, withPeers, type PeerUrls, type PlatformBase, type PlatformUrls } from './peers.ts';
export { runOta, type OtaStart } from './ota.ts';
export { runCa, ensureCaService, ensureProviderCas, CAS_FILE } from './ca.ts';
export { runIssuer, type IssuerPeers } from './issuer.ts';
export { runProvider, type ProviderPeers, type ProviderStart } from './provider.ts';
export { PROVIDER_AID_PREFIX, registerPhones, registerProvider, type OperatorClients } from './registration.ts';
export { ensurePhones, runPhones, type PhoneSet, type RunningPhones } from './fleet.ts';
export { cardOf, loadPhones, manufacturePhone, PHONE_FORMAT, ISD_AID, ISD_KVN, type PhoneRecord } from './phones.ts';

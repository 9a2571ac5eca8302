/** The phone (docs/architecture.md §3 device/): card + admin agent (RAM over HTTP) + hooks for SPS, NFC, commerce. */
export { Device, defaultAgentId, type DeviceOptions, type PushSubscription, type ApduLogEntry } from './device.ts';
export { DeviceFleet, type FleetOptions } from './fleet.ts';
export { AdminAgent, type AdminAgentOptions, type SessionSummary } from './admin-agent.ts';
export { PskHttpsClient, AGENT_PSK_CIPHERS, type PskHttpsOptions, type HttpReply } from './psk-https.ts';
export { LongPollPushClient, type LongPollPushClientOptions } from './push-long-poll.ts';
export { DeviceError, type DeviceErrorCode } from './errors.ts';
export { type DeviceHooks, type SpsHook, type NfcHook, type CommerceHook } from './hooks.ts';
export { DurableFile, writeFileDurably, writeFileDurablySync, type DurableFileOptions } from './durable-file.ts';

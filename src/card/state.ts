/**
 * The persistent state of a simulated card: the GlobalPlatform Registry (GPCS 2.3.1 §6.5: Executable Load
 * Files, Executable Modules, Applications and Security Domains with life cycle, privileges and association),
 * card-wide data (§6.5.2: card life cycle, IIN, CIN, CPLC) and per-Security-Domain keys and sequence counters
 * (§7.4, §7.5).
 *
 * The state is plain JSON data (bytes as upper-case hex strings) so that a command can work on a deep copy
 * (a draft) and the dispatcher can commit it only when the command succeeds (transactions), and so that it
 * serialises as is. Transient data (logical channels, secure channel sessions) lives in `channels.ts`.
 */

/** Version of the serialised state format. */
export const CARD_STATE_VERSION = 1;

/** One key of a Security Domain (PUT KEY §11.8, key information §11.3.3.1.1). */
export interface KeyRecord {
  kvn: number;
  kid: number;
  /**
   * Key type (Table 11-16): 0x80 DES, 0x88 AES; 0xB0 ECC public key (a trust anchor such as PK.CA-KLOC.ECDSA,
   * set by PUT KEY), 0xB1 ECC private key (SK.SD.ECKA, generated on card; it never leaves the card);
   * 0xA1 RSA public key (PK.TP_EX.AUT, set by PUT KEY), 0xA2 RSA private key (SK.SD.AUT, generated on card;
   * it never leaves the card) — see sd/rsa-keys.ts.
   */
  type: number;
  /**
   * Key value, hex: the secret key, the uncompressed public point (B0), the private scalar (B1), the RSA
   * modulus (A1) or the RSA private key as PKCS#8 DER (A2).
   */
  value: string;
  /** RSA public exponent of an 'A1' key, hex. */
  exponent?: string;
  /** ECC key parameter reference ('F0', Amendment F: 00 P-256, 01 P-384, 02 P-521, 03 brainpoolP256r1, 05 brainpoolP384r1). */
  param?: number;
  /**
   * Certificate chain of an SK.SD.ECKA (value of 'BF21': CERT.SD.ECKA last), or the CERT.SD.AUT ('7F21' TLV)
   * of an SK.SD.AUT, hex, set by STORE DATA.
   */
  certificate?: string;
  /**
   * CA identifier mapped to this key, hex, set by STORE DATA 'A6' { '80' '42' '83' } (Amendment F §7.9–§7.10):
   * the CA-KLOC identifier of a trust anchor ('B0', PSO with P1 = 00) or the CA-KLCC identifier of an
   * SK.SD.ECKA ('B1', MUTUAL AUTHENTICATE with P1 = 00).
   */
  caId?: string;
  /** Serial numbers (hex) of the OCE certificates a trust anchor ('B0') accepts, set by STORE DATA 'A6' { '83' } '70' { '93'… }. */
  allowlist?: string[];
  /** Key usage qualifier (Table 11-17), when loaded with the extended format. */
  usage?: number;
  /** Key access (Table 11-19), when loaded with the extended format. */
  access?: number;
}

/**
 * An audited key event of a Security Domain (on-card key generation); only public data. ECC events carry
 * `param`, RSA events `exponent` (never both).
 */
export interface KeyEvent {
  event: 'generate';
  kvn: number;
  kid: number;
  /** Key parameter reference of the curve (ECC). */
  param?: number;
  /** The generated public key: uncompressed point (ECC) or modulus (RSA), hex. */
  publicKey: string;
  /** Public exponent (RSA), hex. */
  exponent?: string;
}

/** Secure channel protocol identifiers an SD of the simulator can run (GPCS Table 11-40 '81'): 02, 03, 10, 11. */
export type SdScp = 2 | 3 | 0x10 | 0x11;

/** Security Domain data (§7.4) kept with its registry entry. */
export interface SdRecord {
  /**
   * Secure channel protocol of this SD: 2, 3, 0x10 (SCP10, GPCS 2.2.1 Appendix F) or 0x11 (SCP11, Amendment F).
   * An SCP10 or SCP11 SD also answers SCP03 with a symmetric key set (its initial key set 'FF'), until its
   * first SCP10 / SCP11a/c session removes that set.
   */
  scp: SdScp;
  /** The protocol's "i" parameter. */
  i: number;
  keys: KeyRecord[];
  /** Sequence counters by key version number (SCP02: 16 bits; SCP03 pseudo-random: 24 bits). */
  sequenceCounters: Record<string, number>;
  /** Data objects stored with STORE DATA, by tag (hex) — e.g. '42', '45', '66', '5F50'. */
  data: Record<string, string>;
  /** Key events (on-card generation), oldest first, at most `KEY_LOG_MAX`. */
  keyLog?: KeyEvent[];
}

export const KEY_LOG_MAX = 32;

/** An Application or Security Domain entry of the registry (§6.5.1). */
export interface AppRecord {
  aid: string;
  /** Executable Load File AID ('' for the ISD). */
  elf: string;
  /** Executable Module AID ('' for the ISD). */
  module: string;
  /** Life cycle state (Tables 11-4, 11-5); the ISD's entry holds the card life cycle (Table 11-6), which it inherits. */
  lifeCycle: number;
  /** Three privilege bytes, hex. */
  privileges: string;
  /** AID of the associated Security Domain (the ISD, and an SSD extradited to itself, name themselves). */
  sd: string;
  /** Implicit selection parameters (tag 'CF'). */
  implicitSelection: number[];
  /** Application specific parameters (value of tag 'C9'), hex. */
  installParams: string;
  /** Present for Security Domains. */
  securityDomain?: SdRecord;
  /** An applet's own persistent data (JSON). */
  appletData?: Record<string, unknown>;
}

/** An Executable Load File entry (§5.2) with its Executable Modules. */
export interface ElfRecord {
  aid: string;
  /** Always LOADED (0x01, Table 11-3). */
  lifeCycle: number;
  /** Associated Security Domain. */
  sd: string;
  /** Executable Module AIDs, hex. */
  modules: string[];
  /** Executable Load File version number (tag 'CE'), hex; '' when unknown. */
  version: string;
  /** True for files in immutable persistent memory (present from the factory). */
  builtIn: boolean;
}

export interface CardState {
  version: typeof CARD_STATE_VERSION;
  /** AID of the Issuer Security Domain. */
  isd: string;
  /** Key diversification data returned by INITIALIZE UPDATE, 10 bytes hex. */
  kdd: string;
  /** Card Production Life Cycle data (GET DATA '9F7F'), 42 bytes hex. */
  cplc: string;
  /** ICCID (10 bytes BCD) hex; '' when not a UICC. */
  iccid: string;
  /** eUICC / eSE identifier (16 bytes), hex; '' when absent. */
  eid: string;
  /** Key set (hex) every new Supplementary Security Domain receives as KVN 'FF'; null = none. */
  ssdInitialKeys: { enc: string; mac: string; dek: string } | null;
  /** Registry: the ISD first, then SSDs and applications in installation order. */
  apps: AppRecord[];
  elfs: ElfRecord[];
}

/** Deep copy of a state (the draft a command works on). */
export function cloneState(state: CardState): CardState {
  return structuredClone(state);
}

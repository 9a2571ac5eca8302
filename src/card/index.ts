/**
 * The secure-element simulator: a GlobalPlatform 2.3.1 card at the APDU level (see docs/architecture.md §3, card/).
 * Public API, by name.
 */
export { SimulatedCard, createCard, serializeCard, defaultCatalogue, type SimulatedCardOptions, type ChangeListener } from './card.ts';
export {
  resolveProfile,
  initialState,
  DEFAULT_STATIC_KEY,
  ISD_PRIVILEGES,
  SSD_ELF_AID,
  SSD_MODULE_AID,
  INITIAL_KVN,
  type CardProfile,
  type CardProfileOptions,
  type ProfileName,
} from './profile.ts';
export { DEFAULT_ATR, ATR_HEX } from './atr.ts';
export { Applet, type AppletContext, type InstallArguments } from './applets/applet.ts';
export { AppletCatalogue, type CatalogueEntry } from './applets/catalogue.ts';
export { EchoApplet, ECHO_ELF_AID, ECHO_MODULE_AID, ECHO_INSTANCE_AID } from './applets/echo.ts';
export { encodeLoadFileDataBlock, parseLoadFileDataBlock, type LoadFileDataBlock } from './load-file.ts';
export { computeDap, loadFileDataBlockHash, DAP_KVN, DAP_KID } from './dap.ts';
export { serializeState, parseState, validateState, STATE_FORMAT } from './persistence.ts';
export { SwError, CardStateError, SW, type CardStateErrorCode } from './errors.ts';
export { CARD_STATE_VERSION, type CardState } from './state.ts';
export { LOGICAL_CHANNELS } from './channels.ts';

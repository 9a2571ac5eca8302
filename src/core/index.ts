export {
  fromHex,
  toHex,
  concat,
  equalConstantTime,
  equalBytes,
  xor,
  zeroize,
  u16,
  readU16,
  assertBytes,
  assertInt,
} from './bytes.ts';
export { OpentsmError, CodecError, type CodecErrorCode } from './errors.ts';
export {
  type Tlv,
  parseTlv,
  parseTlvs,
  encodeTlv,
  encodeConstructed,
  encodeLength,
  encodeParsed,
  findTag,
  findAll,
  isConstructed,
} from './tlv.ts';

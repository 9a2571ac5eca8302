/**
 * The OPEN's dispatcher: class byte and logical channels (GPCS 2.3.1 §11.1.4, §11.7), SELECT (§11.9),
 * GET RESPONSE / wrong Le (ISO/IEC 7816-4), general error conditions (§11.1.3) — each refusal leaves the
 * persistent state unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATR_HEX, DEFAULT_ATR, createCard } from '../../src/card/index.ts';
import { toHex } from '../../src/core/bytes.ts';
import { newCard, open, raw, sc, installSsd, SSD1 } from './helpers.ts';

const ISD_FCI =
  '6F4E8408A000000151000000A542732F06072A864886FC6B01600C060A2A864886FC6B02020301630906072A864886FC6B03640B06092A864886FC6B0403709F6E0A4F54534D0001614001009F6501FF';

test('ATR: T=1 with historical bytes (ISO/IEC 7816-3 §8.2)', () => {
  assert.equal(ATR_HEX, '3BFC1300008131FE458031C073C0211F544F54534D49');
  const card = createCard();
  assert.equal(toHex(card.powerOn()), ATR_HEX);
  assert.equal(toHex(card.reset()), toHex(DEFAULT_ATR));
  card.powerOff();
  assert.throws(() => card.process(Uint8Array.of(0, 0xa4, 4, 0)), /powerOn/);
});

test('SELECT: ISD by AID, by empty data, by partial AID; FCI per Table 11-82', () => {
  const card = newCard();
  assert.deepEqual(raw(card, '00A4040008A00000015100000000'), { data: ISD_FCI, sw: 0x9000 });
  assert.deepEqual(raw(card, '00A4040000'), { data: ISD_FCI, sw: 0x9000 });
  assert.deepEqual(raw(card, '00A4040005A00000015100'), { data: ISD_FCI, sw: 0x9000 });
  assert.deepEqual(raw(card, '00A4040005A000000999'), { data: '', sw: 0x6a82 });
  assert.deepEqual(raw(card, '00A4040105A00000015100').sw, 0x6a86); // other SELECT options go to the ISD, which has none
  assert.deepEqual(raw(card, '00A4040C05A00000015100').sw, 0x6a86);
  assert.deepEqual(raw(card, '00A4040003A0000000').sw, 0x6700);
  assert.deepEqual(raw(card, '04A4040000').sw, 0x6882);
});

test('SELECT next occurrence (P2 02) walks the partial matches', async () => {
  const card = newCard();
  const isd = await open(card, 0x01);
  assert.equal(sc(card, isd, installSsd(SSD1, [])).sw, 0x9000);
  assert.equal(sc(card, isd, installSsd('A000000151535344534402', [])).sw, 0x9000);
  assert.match(raw(card, '00A4040007A000000151535300').data, /840BA000000151535344534401/);
  assert.match(raw(card, '00A4040207A000000151535300').data, /840BA000000151535344534402/);
  assert.equal(raw(card, '00A4040207A000000151535300').sw, 0x6a82);
});

test('MANAGE CHANNEL: open 1..19, close, 6881 on closed channels, further interindustry CLA', () => {
  const card = newCard();
  for (let n = 1; n <= 19; n++) assert.deepEqual(raw(card, '0070000001'), { data: n.toString(16).toUpperCase().padStart(2, '0'), sw: 0x9000 });
  assert.equal(raw(card, '0070000001').sw, 0x6a81); // none free
  assert.deepEqual(raw(card, '4FCA004200'), { data: '0001', sw: 0x9000 }); // channel 19, ISO class: value only
  assert.deepEqual(raw(card, 'CFCA004200'), { data: '42020001', sw: 0x9000 }); // channel 19, GP class
  assert.deepEqual(raw(card, '0070801300'), { data: '', sw: 0x9000 });
  assert.equal(raw(card, '4FCA004200').sw, 0x6881);
  assert.equal(raw(card, '0070801300').sw, 0x6200); // already closed
  assert.equal(raw(card, '0070800000').sw, 0x6a86); // the basic channel cannot be closed
  assert.equal(raw(card, '0070020001').sw, 0x6a86);
  assert.deepEqual(raw(card, '0070001301'), { data: '13', sw: 0x9000 }); // open a given channel
  card.reset();
  assert.equal(raw(card, '01CA004200').sw, 0x6881);
});

test('general errors (§11.1.3): 6700, 6E00, 6D00, 6884, 6A86 — state unchanged', async () => {
  const card = newCard();
  const isd = await open(card, 0x01);
  const before = card.serialize();
  assert.equal(raw(card, '80CA').sw, 0x6700);
  assert.equal(raw(card, '80CA00420500').sw, 0x6700);
  assert.equal(raw(card, 'FFCA004200').sw, 0x6e00);
  assert.equal(raw(card, '20CA004200').sw, 0x6e00);
  assert.equal(raw(card, '10A4040000').sw, 0x6884); // the OPEN's own commands are never chained (SDs take chains: chaining.test.ts)
  assert.equal(sc(card, isd, '80AA000000').sw, 0x6d00);
  assert.equal(sc(card, isd, '80F2800C024F0000').sw, 0x6a86); // RFU bits in P2
  assert.equal(sc(card, isd, '80F28000024F0000').sw, 0x6a86); // deprecated format
  assert.equal(sc(card, isd, '80F20002024F0000').sw, 0x6a86); // unknown P1
  assert.equal(sc(card, isd, '80F0400F').sw, 0x6a80); // no AID
  assert.equal(sc(card, isd, '80F04080054F00000000').sw, 0x6a88);
  assert.equal(sc(card, isd, '80CA00FF00').sw, 0x6a88);
  assert.equal(sc(card, isd, '80E2900003DF0100').sw, 0x6a80); // unknown data object
  assert.equal(sc(card, isd, '80E2900003C10100').sw, 0x6a80); // card-generated object
  assert.equal(card.serialize(), before);
});

test('wrong Le answers 6Cxx; GET STATUS pages with 6310 and get next (§11.4.3.2)', async () => {
  const card = newCard();
  assert.deepEqual(raw(card, '80CA9F7F10'), { data: '', sw: 0x6c2d });
  assert.equal(raw(card, '80CA9F7F2D').sw, 0x9000);
  assert.equal(raw(card, '00C0000000').sw, 0x6985); // nothing pending
  // 30 SSDs make GET STATUS longer than one page: 6310 then get next.
  const isd = await open(card, 0x03);
  for (let i = 0; i < 12; i++) assert.equal(sc(card, isd, installSsd(`A0000001515353445344${(0x10 + i).toString(16)}`, [])).sw, 0x9000);
  const pages = [sc(card, isd, '80F24002024F0000')];
  while (pages.at(-1)!.sw === 0x6310) pages.push(sc(card, isd, '80F24003024F0000'));
  assert.deepEqual(pages.map((p) => [p.sw, p.data.length / 2]), [[0x6310, 5 * 0x2b], [0x6310, 5 * 0x2b], [0x9000, 2 * 0x2b]]);
  assert.equal(sc(card, isd, '80F24003024F0000').sw, 0x6985);
});

test('GET RESPONSE (ISO/IEC 7816-4 §7.6.1): a 300-byte answer comes as 256 + 61 2C, then the rest', async () => {
  const { Applet, defaultCatalogue, createCard } = await import('../../src/card/index.ts');
  const { buildInstallForInstall, encodeInstallParameters } = await import('../../src/gp/index.ts');
  const { fromHex } = await import('../../src/core/bytes.ts');
  class Big extends Applet {
    override process() {
      return { data: new Uint8Array(300).map((_, i) => i & 0xff), sw: 0x9000 };
    }
  }
  const catalogue = defaultCatalogue().register(fromHex('F0000000BB'), [[fromHex('F0000000BB01'), () => new Big()]], { builtIn: true });
  const card = createCard({ catalogue });
  card.powerOn();
  const isd = await open(card, 0x01);
  assert.equal(sc(card, isd, buildInstallForInstall({
    makeSelectable: true, loadFileAid: fromHex('F0000000BB'), moduleAid: fromHex('F0000000BB01'), applicationAid: fromHex('F0000000BB0101'),
    privileges: Uint8Array.of(0), parameters: encodeInstallParameters({}),
  })).sw, 0x9000);
  assert.equal(raw(card, '00A4040007F0000000BB010100').sw, 0x9000);
  const first = raw(card, '8001000000');
  assert.equal(first.sw, 0x612c);
  assert.equal(first.data.length / 2, 256);
  assert.equal(first.data.slice(0, 8), '00010203');
  assert.deepEqual(raw(card, '00C0000010'), { data: '000102030405060708090A0B0C0D0E0F', sw: 0x611c });
  assert.deepEqual(raw(card, '00C000001C'), { data: '101112131415161718191A1B1C1D1E1F202122232425262728292A2B', sw: 0x9000 });
  assert.equal(raw(card, '00C0000000').sw, 0x6985);
});

import {
  SIGNATURE_TOLERANCE_MS,
  SignedRequestDeserializer,
  signPacket,
  UNSIGNED_PATTERN,
  verifyPacket,
} from './message-signature';

describe('wallet message signatures', () => {
  const secret = 'k'.repeat(32);
  const packet = { pattern: 'wallet.credit', data: { fanId: 'f', amountMinor: 5 }, id: 'abc' };

  it('verifies what it signed, and nothing else', () => {
    const signed = signPacket(secret, packet);
    expect(verifyPacket(secret, signed)).toBe(true);
    expect(verifyPacket('w'.repeat(32), signed)).toBe(false);
    expect(verifyPacket(secret, packet)).toBe(false);
    expect(verifyPacket(secret, { ...signed, data: { fanId: 'f', amountMinor: 6 } })).toBe(false);
    expect(verifyPacket(secret, { ...signed, pattern: 'wallet.debit' })).toBe(false);
    expect(verifyPacket(secret, { ...signed, id: 'abd' })).toBe(false);
    expect(verifyPacket(secret, { ...signed, auth: { t: signed.auth.t, sig: 'x' } })).toBe(false);
  });

  it('refuses a signature older or newer than the tolerance', () => {
    const now = Date.now();
    const old = signPacket(secret, packet, now - SIGNATURE_TOLERANCE_MS - 1);
    expect(verifyPacket(secret, old, now)).toBe(false);
    const ahead = signPacket(secret, packet, now + SIGNATURE_TOLERANCE_MS + 1);
    expect(verifyPacket(secret, ahead, now)).toBe(false);
    expect(verifyPacket(secret, signPacket(secret, packet, now - 1000), now)).toBe(true);
  });

  it('hands an unsigned request to the refusing pattern, keeping its id for the answer', () => {
    const deserializer = new SignedRequestDeserializer(secret);
    expect(deserializer.deserialize(packet)).toEqual({
      pattern: UNSIGNED_PATTERN,
      data: undefined,
      id: 'abc',
    });
    expect(deserializer.deserialize(signPacket(secret, packet))).toEqual(packet);
  });
});

import { decodeEnvelope, envelopeFromStreamEntry } from './codec';
import { topicFromName, topicName, topicOf, Topics } from './topics';

const at = String(Date.UTC(2026, 0, 1));
const grab = {
  dropId: 'd1',
  orderId: 'o1',
  fanId: 'f1',
  quantity: 1,
  amountMinor: 199900,
  expiresAt: Number(at) + 600_000,
  remaining: 9,
};

describe('outbox entry -> envelope', () => {
  it('builds the envelope with the stable id <dropId>:<entry id> and the sale clock', () => {
    const decoded = envelopeFromStreamEntry('d1', '1700000000000-3', {
      type: 'grab.accepted',
      v: '1',
      at,
      data: JSON.stringify(grab),
    });
    expect(decoded).toEqual({
      ok: true,
      value: {
        id: 'd1:1700000000000-3',
        type: 'grab.accepted',
        version: 1,
        occurredAt: '2026-01-01T00:00:00.000Z',
        key: 'd1',
        data: grab,
      },
    });
  });

  const bad: [string, Record<string, string>, string][] = [
    ['data not JSON', { type: 'share.recorded', v: '1', at, data: '{' }, 'not JSON'],
    ['no time', { type: 'share.recorded', v: '1', data: '{}' }, '`at`'],
    ['unknown type', { type: 'drop.exploded', v: '1', at, data: '{}' }, 'unknown type'],
    ['newer version', { type: 'drop.paused', v: '2', at, data: '{"dropId":"d1"}' }, 'version 2'],
    [
      'wrong field type',
      { type: 'grab.accepted', v: '1', at, data: JSON.stringify({ ...grab, quantity: '1' }) },
      'data.quantity must be count',
    ],
    [
      'missing field',
      { type: 'share.recorded', v: '1', at, data: '{"dropId":"d1","fanId":"f"}' },
      'data.channel',
    ],
    [
      'unknown error code',
      { type: 'grab.rejected', v: '2', at, data: '{"dropId":"d1","code":"NOPE","count":1}' },
      'data.code must be code',
    ],
  ];
  it.each(bad)('refuses an entry with %s', (_, fields, reason) => {
    const decoded = envelopeFromStreamEntry('d1', '1-1', fields);
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? '' : decoded.reason).toContain(reason);
  });

  it('accepts an optional field absent or present, and extra fields (not breaking)', () => {
    for (const data of [
      { dropId: 'd1', fanId: 'f' },
      { dropId: 'd1', fanId: 'f', referrerId: 'r' },
      { dropId: 'd1', fanId: 'f', extra: true },
    ]) {
      const fields = { type: 'reservation.created', v: '1', at, data: JSON.stringify(data) };
      expect(envelopeFromStreamEntry('d1', '1-1', fields).ok).toBe(true);
    }
  });
});

describe('Kafka message -> envelope', () => {
  it('refuses what is not an envelope', () => {
    expect(decodeEnvelope(null)).toEqual({ ok: false, reason: 'empty message' });
    expect(decodeEnvelope(Buffer.from('nope'))).toEqual({ ok: false, reason: 'value is not JSON' });
    expect(decodeEnvelope('{"id":"x","type":"drop.paused","version":1}').ok).toBe(false);
  });
});

describe('topics', () => {
  it('routes each type family to its topic and maps prefixed names back', () => {
    expect(topicOf('drop.created')).toBe(Topics.drops);
    expect(topicOf('wallet.debited')).toBe(Topics.wallet);
    expect(topicOf('grab.rejected')).toBe(Topics.sales);
    expect(topicFromName(topicName(Topics.sales, 'test3.'), 'test3.')).toBe(Topics.sales);
    expect(topicFromName('other.topic', '')).toBeUndefined();
  });
});

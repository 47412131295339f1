import { allocationKindOf, dropIdOfOrder, newDropId, newOrderId } from './ids';

describe('order ids', () => {
  it('are <dropId>-<16 hex> of a grab, and all different across many refills of the pool', () => {
    const dropId = newDropId();
    const ids = Array.from({ length: 20_000 }, () => newOrderId(dropId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^d[0-9a-f]{12}-[0-9a-f]{16}$/);
      expect(dropIdOfOrder(id)).toBe(dropId);
      expect(allocationKindOf(id)).toBe('grab');
    }
  });

  it('use every hex digit in every position (not a pool of zeros or a fixed stride)', () => {
    const tails = Array.from({ length: 4_000 }, () => newOrderId(newDropId()).slice(-16));
    for (let i = 0; i < 16; i++) expect(new Set(tails.map((t) => t[i])).size).toBe(16);
  });
});

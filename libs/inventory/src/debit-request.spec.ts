import { debitRequestOf } from './debit-request';
import { InventoryOrder } from './types';

describe('debitRequestOf', () => {
  const order: InventoryOrder = {
    id: 'o1',
    dropId: 'd1',
    fanId: 'f1',
    quantity: 2,
    amountMinor: 1800,
    unitPriceMinor: 900,
    discountMinor: 0,
    currency: 'CNY',
    status: 'paying',
    createdAt: 1,
    expiresAt: 2,
    payingUntil: 3,
  };

  it('asks for the hold price of that attempt, from the fan to the brand', () => {
    expect(debitRequestOf(order, 3, 'b1')).toEqual({
      orderId: 'o1',
      attempt: 3,
      fanId: 'f1',
      dropId: 'd1',
      brandId: 'b1',
      amountMinor: 1800,
      currency: 'CNY',
    });
  });

  it("carries a referred order's reward, decided by the hold", () => {
    const referred = { ...order, referrerId: 'f9', rewardMinor: 90 };
    expect(debitRequestOf(referred, 3, 'b1')).toMatchObject({ referrerId: 'f9', rewardMinor: 90 });
    expect(debitRequestOf(referred, 3, 'b1')).not.toHaveProperty('escrow');
  });

  it("sends a group member's money to escrow, and leaves its reward to the group's release", () => {
    const member = { ...order, groupId: 'g1', referrerId: 'f9', rewardMinor: 90 };
    const debit = debitRequestOf(member, 3, 'b1');
    expect(debit.escrow).toBe(true);
    expect(debit).not.toHaveProperty('referrerId');
    expect(debit).not.toHaveProperty('rewardMinor');
  });
});

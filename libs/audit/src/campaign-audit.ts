import { Inventory, StoredSale } from '@flashdrop/inventory';
import { Breach } from './breach';

/**
 * Invariant 9, the part about prices (docs/api.md "Campaigns"): every order of a drop costs what
 * its hold step decided, to the fen: amountMinor = unitPriceMinor x quantity; the unit price is
 * the drop's price, or the price less shareDiscountMinor with discountMinor = that discount x
 * quantity; and a discounted order belongs to a fan in the drop's share record. (That the wallet
 * debited each paid order's amountMinor, discounted or not, is invariant 5's check.)
 */
export async function auditPrices(inventory: Inventory, sale: StoredSale): Promise<Breach[]> {
  const drop = sale.definition;
  const price = drop.priceMinor;
  const discount = drop.shareDiscountMinor ?? 0;
  const breaches: Breach[] = [];
  const discounted = new Set<string>();
  for (const o of sale.orders) {
    const subject = `order ${o.id}`;
    const fine =
      o.amountMinor === o.unitPriceMinor * o.quantity &&
      ((o.unitPriceMinor === price && o.discountMinor === 0) ||
        (discount > 0 &&
          o.unitPriceMinor === price - discount &&
          o.discountMinor === discount * o.quantity));
    if (!fine) {
      breaches.push({
        invariant: 9,
        subject,
        message:
          `amount ${o.amountMinor} = ${o.quantity} x ${o.unitPriceMinor} (discount ` +
          `${o.discountMinor}) does not follow price ${price}, share discount ${discount}`,
      });
    }
    if (o.discountMinor > 0) discounted.add(o.fanId);
  }
  const fans = [...discounted];
  const shared = await inventory.sharedBy(drop.id, fans);
  fans.forEach((fanId, i) => {
    if (!shared[i]) {
      breaches.push({
        invariant: 9,
        subject: `drop ${drop.id}`,
        message: `fan ${fanId} has a discounted order but never shared the drop`,
      });
    }
  });
  return breaches;
}

import { KnownEnvelope } from '@flashdrop/events';
import { Inventory, toDropView, toGroupView, toPublicOrder } from '@flashdrop/inventory';
import { WebhookMapping } from '@flashdrop/webhooks';

/** A delivery's JSON (docs/api.md "Brands' fulfilment"), before it is serialised once. */
export interface DeliveryBody {
  readonly id: string;
  readonly type: string;
  readonly createdAt: string;
  readonly seq: number;
  readonly data: unknown;
}

/**
 * `data` of a delivery: the Order, the Drop or the group the event is about, as the public API shows them,
 * read from the sale (Redis) when the event is recorded. An order's status is the one the event
 * moved it to (a later refund does not rewrite an earlier `order.paid`); its other fields never
 * change after the grab. An order Redis no longer holds is described from the event itself.
 */
export async function deliveryData(
  inventory: Inventory,
  event: KnownEnvelope,
  mapping: WebhookMapping,
): Promise<unknown> {
  const subject = mapping.subject;
  const dropId = (event.data as { dropId: string }).dropId;
  if (subject.kind === 'drop') {
    const state = await inventory.viewDrop(dropId);
    const phase = (event.data as { phase?: string }).phase;
    return state ? { ...toDropView(state), ...(phase ? { phase } : {}) } : { id: dropId, phase };
  }
  if (subject.kind === 'group') {
    // The group as it ended (its status is the event's: a group ends once).
    const group = await inventory.group(dropId, subject.groupId);
    return group
      ? { ...toGroupView(group), status: subject.status }
      : { groupId: subject.groupId, dropId, status: subject.status };
  }
  const order = await inventory.getOrder(subject.orderId);
  if (order) {
    const view = toPublicOrder(order);
    return { ...view, status: subject.status };
  }
  const d = event.data as { fanId?: string; quantity?: number; amountMinor?: number };
  return {
    id: subject.orderId,
    dropId,
    fanId: d.fanId,
    quantity: d.quantity,
    amountMinor: d.amountMinor,
    status: subject.status,
  };
}

import { randomBytes } from 'node:crypto';

/**
 * Ids chosen by the server. An order id embeds its drop id (`<dropId>-<random>`), so an order
 * is found from its id alone, without a lookup table. Drop ids never contain '-'.
 */
const DROP_ID = /^d[0-9a-f]{12}$/;
const ORDER_ID = /^(d[0-9a-f]{12})-[0-9a-f]{16}$/;

export function newDropId(): string {
  return `d${randomBytes(6).toString('hex')}`;
}

export function newOrderId(dropId: string): string {
  return `${dropId}-${randomBytes(8).toString('hex')}`;
}

export function isDropId(value: string): boolean {
  return DROP_ID.test(value);
}

/** The drop of an order id, or undefined when the id is not one of ours. */
export function dropIdOfOrder(orderId: string): string | undefined {
  return ORDER_ID.exec(orderId)?.[1];
}

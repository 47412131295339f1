import { DropDefinition, HoldStatus, InventoryGroup, InventoryOrder } from './types';

/**
 * The sale's hashes as the scripts write them (HGETALL shape: every value a string, '' or no
 * field for an absent optional), read back as the inventory's types.
 */

function optionalNumber(v: string | undefined): number | undefined {
  return v === undefined || v === '' ? undefined : Number(v);
}

export function parseOrder(h: Record<string, string>): InventoryOrder {
  const quantity = Number(h.quantity);
  const amountMinor = Number(h.amountMinor);
  return {
    id: h.id,
    dropId: h.dropId,
    fanId: h.fanId,
    quantity,
    amountMinor,
    // Orders held before campaigns existed carry neither field: full price, no discount.
    unitPriceMinor: h.unitPriceMinor ? Number(h.unitPriceMinor) : amountMinor / quantity,
    discountMinor: Number(h.discountMinor ?? 0),
    currency: h.currency,
    status: h.status as HoldStatus,
    createdAt: Number(h.createdAt),
    expiresAt: Number(h.expiresAt),
    paidAt: optionalNumber(h.paidAt),
    payingUntil: optionalNumber(h.payingUntil),
    ...(h.fromOrderId ? { fromOrderId: h.fromOrderId } : {}),
    ...(h.refundReason ? { refundReason: h.refundReason } : {}),
    ...(h.refundedAt ? { refundedAt: Number(h.refundedAt) } : {}),
    ...(h.refundingSince ? { refundingSince: Number(h.refundingSince) } : {}),
    ...(h.referrerId ? { referrerId: h.referrerId, rewardMinor: Number(h.rewardMinor) } : {}),
    ...(h.groupId ? { groupId: h.groupId } : {}),
    ...(h.groupedAt ? { groupedAt: Number(h.groupedAt) } : {}),
  };
}

export function parseGroup(h: Record<string, string>): InventoryGroup {
  return {
    id: h.id,
    dropId: h.dropId,
    size: Number(h.size),
    members: Number(h.members),
    paidMembers: Number(h.paidMembers),
    startedAt: Number(h.startedAt),
    expiresAt: Number(h.expiresAt),
    status: h.status as InventoryGroup['status'],
  };
}

export function parseDefinition(h: Record<string, string>): DropDefinition {
  return {
    id: h.id,
    brandId: h.brandId,
    title: h.title,
    sku: h.sku,
    priceMinor: Number(h.priceMinor),
    currency: h.currency,
    quantity: Number(h.quantity),
    perUserLimit: Number(h.perUserLimit),
    reservationRequired: h.reservationRequired === '1',
    reservationOpensAt: optionalNumber(h.reservationOpensAt),
    reservationClosesAt: optionalNumber(h.reservationClosesAt),
    saleStartsAt: Number(h.saleStartsAt),
    saleEndsAt: optionalNumber(h.saleEndsAt),
    holdSeconds: Number(h.holdSeconds),
    // Drops mirrored before draws existed have no field: they are first-come.
    allocation: h.allocation === 'draw' ? 'draw' : 'first_come',
    ...(h.audienceTier ? { audienceTier: h.audienceTier } : {}),
    shareDiscountMinor: Number(h.shareDiscountMinor ?? 0),
    referralRewardMinor: Number(h.referralRewardMinor ?? 0),
    // Drops mirrored before buckets existed have one.
    stockBuckets: Number(h.stockBuckets ?? 1),
    ...(h.groupSize ? { groupSize: Number(h.groupSize) } : {}),
    ...(h.groupSeconds ? { groupSeconds: Number(h.groupSeconds) } : {}),
    paused: h.paused === '1',
    cancelled: h.cancelled === '1',
    createdAt: Number(h.createdAt),
    // Mirrors written before versions existed hold the first one.
    version: optionalNumber(h.version) ?? 1,
  };
}

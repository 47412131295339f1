import { dropSlotTag } from '@flashdrop/inventory';

/**
 * The analytics' own Redis keys, and the only place that spells them. A drop's keys carry the
 * drop's hash tag (libs/inventory `dropSlotTag`, so they sit in the drop's Redis Cluster slot and
 * one script touches one slot), under `:a:` so they never meet the sale's keys.
 */
export function analyticsKeys(dropId: string) {
  const tag = `${dropSlotTag(dropId)}:a`;
  return {
    stats: `${tag}:stats`,
    channels: `${tag}:channels`,
    referrers: `${tag}:referrers`,
    seconds: `${tag}:sec`,
    watermark: `${tag}:wm`,
    seen: (eventId: string) => `${tag}:seen:${eventId}`,
  };
}

/** Events of no drop (wallet credits) count here. */
export const walletKeys = {
  stats: '{a:wallet}:stats',
  seen: (eventId: string) => `{a:wallet}:seen:${eventId}`,
};

/** Channel on which analytics announces which drops changed (a batch's drop ids, comma-joined). */
export const STATS_CHANGED_CHANNEL = 'analytics:changed';

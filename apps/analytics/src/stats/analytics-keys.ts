/**
 * The analytics' own Redis keys. A drop's keys carry the drop's hash tag `{d:<id>}` (so they sit
 * in the drop's Redis Cluster slot and one script touches one slot), under `:a:` so they never
 * meet the sale's keys (libs/inventory/README.md).
 */
export function analyticsKeys(dropId: string) {
  const tag = `{d:${dropId}}:a`;
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

import { GroupView } from '@flashdrop/contracts';
import { InventoryGroup } from './types';

/**
 * A group as the public API shows it (docs/api.md "Campaigns"): GET /v1/drops/:id/groups/:groupId
 * and the group.completed / group.failed webhooks. `completing` and `failing` are the fences of
 * its end: the public sees the group as open until the end is done.
 */
export function toGroupView(g: InventoryGroup): GroupView {
  return {
    groupId: g.id,
    dropId: g.dropId,
    size: g.size,
    members: g.members,
    paidMembers: g.paidMembers,
    expiresAt: new Date(g.expiresAt).toISOString(),
    status: g.status === 'complete' ? 'complete' : g.status === 'failed' ? 'failed' : 'open',
  };
}

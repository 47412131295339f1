import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '@flashdrop/auth';
import { DomainError, GroupView, NotFoundMessages } from '@flashdrop/contracts';
import { Inventory, isDropId, isGroupId, toGroupView } from '@flashdrop/inventory';

/**
 * GET /v1/drops/:id/groups/:groupId (no auth: the share link a group's starter sends friends):
 * the group as Redis holds it (libs/inventory toGroupView).
 */
@ApiTags('fans')
@Controller('v1/drops/:id/groups')
export class GroupsController {
  constructor(private readonly inventory: Inventory) {}

  @Public()
  @Get(':groupId')
  async get(@Param('id') dropId: string, @Param('groupId') groupId: string): Promise<GroupView> {
    const group =
      isDropId(dropId) && isGroupId(groupId)
        ? await this.inventory.group(dropId, groupId)
        : undefined;
    if (!group) throw new DomainError('NOT_FOUND', NotFoundMessages.group);
    return toGroupView(group);
  }
}

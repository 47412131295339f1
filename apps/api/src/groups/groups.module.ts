import { Module } from '@nestjs/common';
import { GroupsController } from './groups.controller';

/** Group buy's public read: GET /v1/drops/:id/groups/:groupId (docs/api.md "Campaigns"). */
@Module({ controllers: [GroupsController] })
export class GroupsModule {}

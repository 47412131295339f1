import { Injectable } from '@nestjs/common';
import { DomainError, Principal } from '@flashdrop/contracts';
import { dropKeys } from '@flashdrop/inventory';
import { RedisConnection } from '@flashdrop/persistence';

/**
 * Who may read a drop's statistics (API.md "Operators"): an operator, or the brand that owns
 * the drop. Another brand's drop, like a drop that does not exist, is 404 (a brand must not learn
 * that someone else's drop exists). The owner is the sale's own record, the `{d:ID}:drop` hash
 * the API mirrors into Redis when the drop is created (libs/inventory/README.md).
 */
@Injectable()
export class DropAccess {
  constructor(private readonly redis: RedisConnection) {}

  async assertCanRead(principal: Principal, dropId: string): Promise<void> {
    const [id, brandId] = await this.redis.client.hmget(dropKeys(dropId).drop, 'id', 'brandId');
    const visible =
      id !== null &&
      (principal.role === 'operator' || (principal.role === 'brand' && brandId === principal.sub));
    if (!visible) throw new DomainError('NOT_FOUND', `drop ${dropId} not found`);
  }
}

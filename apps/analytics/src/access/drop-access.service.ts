import { Injectable } from '@nestjs/common';
import { DomainError, Principal } from '@flashdrop/contracts';
import { Inventory } from '@flashdrop/inventory';

/**
 * Who may read a drop's statistics (docs/api.md "Operators"): an operator, or the brand that owns
 * the drop. Another brand's drop, like a drop that does not exist, is 404 (a brand must not learn
 * that someone else's drop exists). The owner is the sale's own record, the drop the API mirrors
 * into Redis when it is created (libs/inventory).
 */
@Injectable()
export class DropAccess {
  constructor(private readonly inventory: Inventory) {}

  async assertCanRead(principal: Principal, dropId: string): Promise<void> {
    const brandId = await this.inventory.ownerOf(dropId);
    const visible =
      brandId !== undefined &&
      (principal.role === 'operator' || (principal.role === 'brand' && brandId === principal.sub));
    if (!visible) throw new DomainError('NOT_FOUND', `drop ${dropId} not found`);
  }
}

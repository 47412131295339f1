import { Injectable } from '@nestjs/common';
import { AllocationEntry, GENESIS_HASH } from '@flashdrop/fair';
import { AllocationRecords } from '@flashdrop/sales';
import { DropsService } from '../drops/drops.service';

/** GET /v1/drops/:id/allocations (API.md "Fair launch"). */
export interface AllocationsPage {
  readonly items: readonly AllocationEntry[];
  /** The hash of the log's last entry (64 zeros while it is empty). */
  readonly head: string;
}

/**
 * A drop's allocation log as chained into PostgreSQL by the worker (libs/sales
 * AllocationRecords). It trails the sale by the worker's pass (about 200 ms): an entry appears
 * once its event was read, and is never rewritten after.
 */
@Injectable()
export class AllocationsService {
  constructor(
    private readonly drops: DropsService,
    private readonly allocations: AllocationRecords,
  ) {}

  async page(dropId: string, after: number, limit: number): Promise<AllocationsPage> {
    await this.drops.state(dropId);
    const [items, head] = await Promise.all([
      this.allocations.page(dropId, after, limit),
      this.allocations.head(dropId),
    ]);
    return { items, head: head?.hash ?? GENESIS_HASH };
  }
}

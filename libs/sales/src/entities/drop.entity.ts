import { Allocation } from '@flashdrop/inventory';
import { bigintToNumber } from '@flashdrop/persistence';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A drop's definition: the durable truth. Redis holds a mirror of it for the sale
 * (libs/inventory `mirror_drop`), rebuilt from here if Redis ever lacks it.
 */
@Entity({ name: 'drops', schema: 'sales' })
@Index('drops_brand_created', ['brandId', 'createdAt'])
export class DropEntity {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'brand_id' }) brandId!: string;
  @Column('text') title!: string;
  @Column('text') sku!: string;
  @Column('bigint', { name: 'price_minor', transformer: bigintToNumber }) priceMinor!: number;
  @Column('text') currency!: string;
  @Column('integer') quantity!: number;
  @Column('integer', { name: 'per_user_limit' }) perUserLimit!: number;
  @Column('boolean', { name: 'reservation_required' }) reservationRequired!: boolean;
  @Column('timestamptz', { name: 'reservation_opens_at', nullable: true })
  reservationOpensAt!: Date | null;
  @Column('timestamptz', { name: 'reservation_closes_at', nullable: true })
  reservationClosesAt!: Date | null;
  @Column('timestamptz', { name: 'sale_starts_at' }) saleStartsAt!: Date;
  @Column('timestamptz', { name: 'sale_ends_at', nullable: true }) saleEndsAt!: Date | null;
  @Column('integer', { name: 'hold_seconds' }) holdSeconds!: number;
  @Column('text') allocation!: Allocation;
  @Column('text', { name: 'audience_tier', nullable: true }) audienceTier!: string | null;
  @Column('bigint', { name: 'share_discount_minor', transformer: bigintToNumber })
  shareDiscountMinor!: number;
  @Column('bigint', { name: 'referral_reward_minor', transformer: bigintToNumber })
  referralRewardMinor!: number;
  @Column('smallint', { name: 'stock_buckets' }) stockBuckets!: number;
  @Column('int', { name: 'group_size', nullable: true }) groupSize!: number | null;
  @Column('int', { name: 'group_seconds', nullable: true }) groupSeconds!: number | null;
  @Column('boolean') paused!: boolean;
  @Column('boolean') cancelled!: boolean;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
  /** Raised by every edit; the Redis mirror records the version it holds. */
  @Column('integer') version!: number;
}

import { bigintToNumber } from '@flashdrop/persistence';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Orders as persisted from the drops' outbox streams by the worker's order persistence (so they
 * outlive Redis). Redis is the live truth while a hold is open; this table is the durable record.
 */
@Entity({ name: 'orders', schema: 'sales' })
@Index('orders_fan_created', ['fanId', 'createdAt'])
@Index('orders_drop_seq', ['dropId', 'seq'], { unique: true })
export class OrderEntity {
  @PrimaryColumn('text') id!: string;
  /** Storage position: from the sequence on first insert, never changed after (the export's cursor). */
  @Column('bigint', { transformer: bigintToNumber }) seq!: number;
  @Column('text', { name: 'drop_id' }) dropId!: string;
  @Column('text', { name: 'fan_id' }) fanId!: string;
  @Column('integer') quantity!: number;
  @Column('bigint', { name: 'amount_minor', transformer: bigintToNumber }) amountMinor!: number;
  @Column('bigint', { name: 'unit_price_minor', transformer: bigintToNumber })
  unitPriceMinor!: number;
  @Column('bigint', { name: 'discount_minor', transformer: bigintToNumber }) discountMinor!: number;
  @Column('text') currency!: string;
  @Column('text') status!:
    'held' | 'paying' | 'grouped' | 'paid' | 'refunding' | 'cancelled' | 'expired' | 'refunded';
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt!: Date;
  @Column('timestamptz', { name: 'paid_at', nullable: true }) paidAt!: Date | null;
  @Column('timestamptz', { name: 'refunded_at', nullable: true }) refundedAt!: Date | null;
  @Column('text', { name: 'refund_reason', nullable: true }) refundReason!: string | null;
  /** A refund under way (`refunding` only): its attempt, the order's refundingSince. */
  @Column('timestamptz', { name: 'refunding_since', nullable: true })
  refundingSince!: Date | null;
  /** A payment in flight (`paying` only): its attempt, the order's payingUntil. */
  @Column('timestamptz', { name: 'paying_until', nullable: true })
  payingUntil!: Date | null;
  /** Referral rewards: the referrer this order pays when paid, and how much (both or neither). */
  @Column('text', { name: 'referrer_id', nullable: true }) referrerId!: string | null;
  @Column('bigint', { name: 'reward_minor', nullable: true, transformer: bigintToNumber })
  rewardMinor!: number | null;
  /** Group buy: the order's group, and when its payment reached the drop's escrow. */
  @Column('text', { name: 'group_id', nullable: true }) groupId!: string | null;
  @Column('timestamptz', { name: 'grouped_at', nullable: true }) groupedAt!: Date | null;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

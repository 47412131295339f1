import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintToNumber } from '@flashdrop/persistence';

export type TransferKind = 'credit' | 'payment';

/** One movement of money between two accounts; its two entries sum to zero. */
@Entity({ name: 'transfers' })
export class Transfer {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  kind!: TransferKind;

  @Column({ name: 'fan_id', type: 'text' })
  fanId!: string;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintToNumber })
  amountMinor!: number;

  /** Credits: the operator's reference (unique among credits). */
  @Column({ type: 'text', nullable: true })
  reference!: string | null;

  /** Payments: the order paid (unique among payments). */
  @Column({ name: 'order_id', type: 'text', nullable: true })
  orderId!: string | null;

  @Column({ name: 'drop_id', type: 'text', nullable: true })
  dropId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { PaymentOutcome } from '@flashdrop/contracts';
import { bigintToNumber } from '@flashdrop/persistence';

/**
 * The fence of one payment attempt of one order: its recorded outcome. Written first in the
 * debit's and the settle's transaction, so whichever commits first decides (PAYMENTS.md).
 */
@Entity({ name: 'payments' })
export class Payment {
  @PrimaryColumn({ name: 'order_id', type: 'text' })
  orderId!: string;

  @PrimaryColumn({ type: 'bigint' })
  attempt!: string;

  @Column({ type: 'text' })
  status!: PaymentOutcome;

  @Column({ name: 'fan_id', type: 'text', nullable: true })
  fanId!: string | null;

  @Column({ name: 'drop_id', type: 'text', nullable: true })
  dropId!: string | null;

  @Column({ name: 'amount_minor', type: 'bigint', nullable: true, transformer: bigintToNumber })
  amountMinor!: number | null;

  @Column({ type: 'text', nullable: true })
  currency!: string | null;

  @Column({ name: 'transfer_id', type: 'bigint', nullable: true })
  transferId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

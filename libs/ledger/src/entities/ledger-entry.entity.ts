import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintToNumber } from '@flashdrop/persistence';

/** One leg of a transfer on one account: positive adds to the balance, negative takes away. */
@Entity({ name: 'entries' })
export class LedgerEntry {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'transfer_id', type: 'bigint' })
  transferId!: string;

  @Column({ name: 'account_id', type: 'bigint' })
  accountId!: string;

  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintToNumber })
  amountMinor!: number;

  @Column({ name: 'balance_after_minor', type: 'bigint', transformer: bigintToNumber })
  balanceAfterMinor!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

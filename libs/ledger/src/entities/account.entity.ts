import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintToNumber } from '@flashdrop/persistence';

export type AccountKind = 'fan' | 'external' | 'revenue';

/**
 * One account of the ledger: a fan's wallet (one per fan and currency), a shard of the
 * external funding account, or a shard of a brand's revenue. Balances change only through the
 * ledger functions of the migration, never through this entity.
 */
@Entity({ name: 'accounts' })
export class Account {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  kind!: AccountKind;

  @Column({ name: 'owner_id', type: 'text' })
  ownerId!: string;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ type: 'smallint' })
  shard!: number;

  @Column({ name: 'balance_minor', type: 'bigint', transformer: bigintToNumber })
  balanceMinor!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

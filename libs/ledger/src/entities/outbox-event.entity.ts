import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The wallet's outbox: `wallet.outbox(id bigserial, event_id uuid unique, type, version, key,
 * occurred_at, data jsonb, published_at null)`. Each row is written in the same transaction
 * as the ledger change it reports (`wallet.credited`, `wallet.debited` of libs/events), so an
 * event exists if and only if its change committed. The events relay reads unpublished rows in
 * id order, publishes them to Topics.wallet keyed by `key` (the fan id) with `event_id` as
 * the envelope id, and sets `published_at`.
 */
@Entity({ name: 'outbox' })
export class OutboxEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'int' })
  version!: number;

  @Column({ type: 'text' })
  key!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ type: 'jsonb' })
  data!: Record<string, unknown>;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;
}

import { OutboxStreamFields } from '@flashdrop/events';
import type { AllocationFields, AllocationKind } from '@flashdrop/fair';
import type { OutboxEntry } from './outbox-reader';

/**
 * The events that hand a unit out, and the kind of allocation each one is (API.md "Fair
 * launch"): the scripts that write them take the entry's `seq` in the same step. A new way of
 * handing a unit out adds its event here.
 */
const HANDED_OUT: Readonly<Record<string, AllocationKind>> = {
  'grab.accepted': 'grab',
  'draw.won': 'draw',
  'hold.backfilled': 'backfill',
};

interface HandedOutData {
  orderId: string;
  fanId: string;
  quantity: number;
  seq?: number;
  fromOrderId?: string;
}

/**
 * The allocation log entry (without its hash) an outbox entry stands for, or undefined when it
 * hands nothing out, or when it was written before the log existed (no `seq`).
 */
export function handedOutBy(entry: OutboxEntry): AllocationFields | undefined {
  const kind = HANDED_OUT[entry.fields[OutboxStreamFields.type] ?? ''];
  if (!kind) return undefined;
  const data = JSON.parse(entry.fields[OutboxStreamFields.data] ?? '{}') as HandedOutData;
  if (data.seq === undefined) return undefined;
  return {
    seq: data.seq,
    at: new Date(Number(entry.fields[OutboxStreamFields.occurredAtMs])).toISOString(),
    kind,
    orderId: data.orderId,
    fanId: data.fanId,
    quantity: data.quantity,
    ...(data.fromOrderId === undefined ? {} : { fromOrderId: data.fromOrderId }),
  };
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { OrderTally, SecondOfSale } from '@flashdrop/sales';

export const REPORT_FORMATS = ['json', 'csv'] as const;

/** GET /v1/drops/:id/report?format= (docs/api.md "Brands' fulfilment"). */
export class DropReportQuery {
  @ApiPropertyOptional({
    enum: REPORT_FORMATS,
    description: 'csv: the seconds of the sale as CSV (as with Accept: text/csv)',
  })
  @IsOptional()
  @IsIn(REPORT_FORMATS, { message: `format must be one of ${REPORT_FORMATS.join(', ')}` })
  readonly format?: (typeof REPORT_FORMATS)[number];
}

/** Orders and units of one kind, and what they cost. */
export type ReportTally = OrderTally;

/** One second of the sale with something in it, in units (libs/sales SecondOfSale). */
export interface ReportSecond extends Omit<SecondOfSale, 'at'> {
  /** The second's start, ISO 8601 UTC. */
  readonly at: string;
  /** Units held or paid at the end of the second: the sell-through so far. */
  readonly taken: number;
}

/** The report after the sale (docs/fulfilment.md "The report after the sale"). */
export interface DropReport {
  readonly dropId: string;
  readonly brandId: string;
  readonly title: string;
  readonly currency: string;
  readonly priceMinor: number;
  readonly quantity: number;
  readonly saleStartsAt: string;
  readonly saleEndsAt: string | null;
  readonly phase: string;
  /**
   * True once nothing but a refund can change these figures: the sale is over (ended, sold
   * out or cancelled) and no hold is open. False: the figures so far.
   */
  readonly final: boolean;
  readonly generatedAt: string;
  /** Orders by their status now (`held` includes those being paid). */
  readonly orders: Readonly<
    Record<'total' | 'held' | 'paid' | 'expired' | 'cancelled' | 'refunded', number>
  >;
  /** Units: every unit grabbed, then by the status of its order now; `unsold` is neither held nor paid. */
  readonly units: Readonly<
    Record<
      'grabbed' | 'backfilled' | 'held' | 'paid' | 'expired' | 'cancelled' | 'refunded' | 'unsold',
      number
    >
  >;
  /** Every order ever paid (refunded ones included) and what was paid. */
  readonly payments: ReportTally;
  readonly refunds: ReportTally;
  /** Fans with an order; fans with a paid order (not refunded). */
  readonly uniqueFans: number;
  readonly uniqueBuyers: number;
  /** Paid orders over all orders (0..1); null without orders. */
  readonly paidShare: number | null;
  readonly firstOrderAt: string | null;
  readonly lastOrderAt: string | null;
  readonly soldOutAt: string | null;
  /** From saleStartsAt to soldOutAt; null if it never sold out. */
  readonly timeToSellOutSeconds: number | null;
  /** From analytics (the grab's refusals are counted there, never stored as orders); null when it does not answer. */
  readonly refusals: {
    readonly grabAttempts: number;
    readonly byReason: Record<string, number>;
  } | null;
  /** The wallet's own count of this drop's debits, from its events (analytics); null when it does not answer. */
  readonly walletDebits: { readonly debits: number; readonly debitedMinor: number } | null;
  readonly perSecond: readonly ReportSecond[];
}

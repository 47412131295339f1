import { Injectable } from '@nestjs/common';
import { DomainError, Principal } from '@flashdrop/contracts';
import { DropPhase } from '@flashdrop/inventory';
import { DropFigures, StoredDropFigures } from '@flashdrop/sales';
import { AnalyticsProxy } from '../analytics-proxy/analytics-proxy.service';
import { DropsService } from '../drops/drops.service';
import { DropReport, ReportSecond } from './drop-report.dto';

/** Phases after which no fan can take a unit by a grab any more. */
const OVER: readonly DropPhase[] = ['ended', 'sold_out', 'cancelled'];

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * A drop's report after the sale (docs/fulfilment.md "The report after the sale"): its orders'
 * figures from PostgreSQL `sales.orders` (the durable record, libs/sales DropFigures), the
 * refusals from analytics (refused grabs leave no order; analytics counts them), for the owner
 * brand or an operator. Another brand's drop is NOT_FOUND, as if absent.
 */
@Injectable()
export class DropReportService {
  constructor(
    private readonly drops: DropsService,
    private readonly figures: DropFigures,
    private readonly analytics: AnalyticsProxy,
  ) {}

  async report(
    caller: Principal,
    dropId: string,
    authorization: string | undefined,
  ): Promise<DropReport> {
    // The phase is read before the figures: a report marked final had no hold open after the
    // sale was already over, so nothing read after it can still move.
    const state = await this.drops.state(dropId);
    const drop = state.definition;
    if (caller.role !== 'operator' && drop.brandId !== caller.sub) {
      throw DomainError.notFound('drop');
    }
    const [stored, stats] = await Promise.all([
      this.figures.of(dropId, drop.quantity),
      this.analytics.statsOf(dropId, authorization),
    ]);
    const s = stored.byStatus;
    const soldOutAt = stored.soldOutAt;
    return {
      dropId,
      brandId: drop.brandId,
      title: drop.title,
      currency: drop.currency,
      priceMinor: drop.priceMinor,
      quantity: drop.quantity,
      saleStartsAt: new Date(drop.saleStartsAt).toISOString(),
      saleEndsAt: iso(drop.saleEndsAt),
      phase: state.phase,
      final: OVER.includes(state.phase) && s.held.orders === 0,
      generatedAt: new Date(state.now).toISOString(),
      orders: {
        total: stored.all.orders,
        held: s.held.orders,
        paid: s.paid.orders,
        expired: s.expired.orders,
        cancelled: s.cancelled.orders,
        refunded: s.refunded.orders,
      },
      units: {
        grabbed: stored.all.units,
        backfilled: stored.seconds.reduce((n, x) => n + x.backfilled, 0),
        held: s.held.units,
        paid: s.paid.units,
        expired: s.expired.units,
        cancelled: s.cancelled.units,
        refunded: s.refunded.units,
        unsold: Math.max(0, drop.quantity - s.held.units - s.paid.units),
      },
      payments: stored.payments,
      refunds: s.refunded,
      uniqueFans: stored.fans,
      uniqueBuyers: stored.buyers,
      paidShare: stored.all.orders === 0 ? null : stored.payments.orders / stored.all.orders,
      firstOrderAt: iso(stored.firstOrderAt),
      lastOrderAt: iso(stored.lastOrderAt),
      soldOutAt: iso(soldOutAt),
      timeToSellOutSeconds:
        soldOutAt === undefined ? null : Math.max(0, soldOutAt - drop.saleStartsAt) / 1000,
      refusals: stats ? refusalsOf(stats) : null,
      walletDebits: stats ? walletDebitsOf(stats) : null,
      perSecond: secondsOf(stored),
    };
  }
}

function secondsOf(stored: StoredDropFigures): ReportSecond[] {
  let taken = 0;
  return stored.seconds.map((x) => {
    taken += x.grabbed - x.expired - x.cancelled - x.refunded;
    return {
      at: new Date(x.at).toISOString(),
      grabbed: x.grabbed,
      backfilled: x.backfilled,
      paid: x.paid,
      expired: x.expired,
      cancelled: x.cancelled,
      refunded: x.refunded,
      taken,
    };
  });
}

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function refusalsOf(stats: Record<string, unknown>): NonNullable<DropReport['refusals']> {
  const byReason: Record<string, number> = {};
  const rejections = stats.rejections;
  if (rejections && typeof rejections === 'object') {
    for (const [code, n] of Object.entries(rejections)) byReason[code] = count(n);
  }
  return { grabAttempts: count(stats.grabAttempts), byReason };
}

function walletDebitsOf(stats: Record<string, unknown>): NonNullable<DropReport['walletDebits']> {
  return { debits: count(stats.walletDebits), debitedMinor: count(stats.walletDebitedMinor) };
}

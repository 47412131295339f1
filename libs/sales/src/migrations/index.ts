import { SalesDropsOrders1764000000000 } from './1764000000000-sales-drops-orders';
import { SalesDropVersion1765000000000 } from './1765000000000-drop-version';
import { OrdersStorageSeq1766000000000 } from './1766000000000-orders-storage-seq';
import { FairLaunch1767000000000 } from './1767000000000-fair-launch';
import { Campaigns1768000000000 } from './1768000000000-campaigns';
import { ReferralRewards1769000000000 } from './1769000000000-referral-rewards';
import { GroupBuy1770000000000 } from './1770000000000-group-buy';
import { StockBuckets1771000000000 } from './1771000000000-stock-buckets';
import { OrderCampaignTerms1772000000000 } from './1772000000000-order-campaign-terms';
import { OrderRefunding1773000000000 } from './1773000000000-order-refunding';
import { OrderPayingAttempt1774000000000 } from './1774000000000-order-paying-attempt';

/** The `sales` schema's migrations, oldest first. Never edit one that has shipped. */
export const salesMigrations: (new () => object)[] = [
  SalesDropsOrders1764000000000,
  SalesDropVersion1765000000000,
  OrdersStorageSeq1766000000000,
  FairLaunch1767000000000,
  Campaigns1768000000000,
  ReferralRewards1769000000000,
  GroupBuy1770000000000,
  StockBuckets1771000000000,
  OrderCampaignTerms1772000000000,
  OrderRefunding1773000000000,
  OrderPayingAttempt1774000000000,
];

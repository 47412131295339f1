import { Injectable } from '@nestjs/common';
import { DomainError } from '@flashdrop/contracts';
import {
  BrandBacklog,
  DeliveryView,
  Endpoint,
  EndpointRecords,
  SecretBox,
  UrlPolicy,
  WebhooksDatabase,
} from '@flashdrop/webhooks';
import { CreateWebhookDto, WebhookView } from './webhooks.dto';

/** Webhooks one brand may keep (a brand's systems need a few; thousands would be abuse). */
const MAX_WEBHOOKS_PER_BRAND = 20;

const view = (e: Endpoint, secret?: string): WebhookView => ({
  id: e.id,
  url: e.url,
  events: e.events,
  createdAt: e.createdAt.toISOString(),
  ...(secret === undefined ? {} : { secret }),
});

/**
 * A brand's webhooks (docs/api.md "Brands' fulfilment"). The URL is checked against the
 * deployment's rule (libs/webhooks UrlPolicy: https, no private, loopback or link-local
 * address unless allowed) before anything is written; the secret is shown once and stored
 * sealed. Another brand's webhook is NOT_FOUND, as if absent.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly db: WebhooksDatabase,
    private readonly policy: UrlPolicy,
    private readonly box: SecretBox,
  ) {}

  async create(brandId: string, dto: CreateWebhookDto): Promise<WebhookView> {
    const checked = await this.policy.check(dto.url);
    if (!checked.ok) {
      throw DomainError.invalid([{ field: 'url', message: checked.reason }]);
    }
    if ((await this.db.endpoints.countOfBrand(brandId)) >= MAX_WEBHOOKS_PER_BRAND) {
      throw DomainError.invalid([
        { field: 'url', message: `a brand keeps at most ${MAX_WEBHOOKS_PER_BRAND} webhooks` },
      ]);
    }
    const id = EndpointRecords.newId();
    const secret = SecretBox.newSecret();
    const endpoint = await this.db.endpoints.insert({
      id,
      brandId,
      url: checked.url.toString(),
      events: dto.events,
      secretSealed: this.box.seal(secret, id),
    });
    return view(endpoint, secret);
  }

  async list(brandId: string): Promise<WebhookView[]> {
    return (await this.db.endpoints.listOfBrand(brandId)).map((e) => view(e));
  }

  async remove(brandId: string, id: string): Promise<void> {
    if (!(await this.db.endpoints.deleteOfBrand(brandId, id)))
      throw DomainError.notFound('webhook');
  }

  async deliveries(brandId: string, id: string, limit: number): Promise<{ items: DeliveryView[] }> {
    if (!(await this.db.endpoints.findOfBrand(brandId, id))) throw DomainError.notFound('webhook');
    return { items: await this.db.deliveries.recent(id, limit) };
  }

  backlog(): Promise<BrandBacklog[]> {
    return this.db.deliveries.backlogByBrand();
  }
}

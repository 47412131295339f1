import { ErrorBody } from '@flashdrop/contracts';
import { checkBody, stringOfLength } from '@flashdrop/http';

/** `POST /v1/drops/:id/reservations` body. */
export interface ReserveBody {
  /** The fan whose share brought this fan here (counted as a referral). */
  readonly referrerId?: string;
}

/** Checked by hand: the reservation wave is a rush of its own (libs/http `checkBody`). */
export function parseReserveBody(body: unknown): Partial<ReserveBody> | ErrorBody {
  return checkBody<ReserveBody>(body, { referrerId: stringOfLength(1, 128) });
}

export interface ReservationView {
  readonly dropId: string;
  readonly fanId: string;
  readonly reservedAt: string;
}

import { api, tokenFor, uniqueId } from '@flashdrop/testing';

export const operatorToken = tokenFor('operator', 'operator-wallet-tests');

/** Credits a fan through the public API; returns the response. */
export function credit(
  fanId: string,
  amountMinor: number,
  reference: string = uniqueId('ref'),
  token: string = operatorToken,
) {
  return api<{ fanId: string; balanceMinor: number }>('POST', `/v1/wallets/${fanId}/credits`, {
    token,
    body: { amountMinor, reference },
  });
}

export async function balanceOf(fanToken: string): Promise<number> {
  const res = await api<{ balanceMinor: number }>('GET', '/v1/wallet', { token: fanToken });
  if (res.status !== 200) throw new Error(`GET /v1/wallet answered ${res.status}`);
  return res.body.balanceMinor;
}

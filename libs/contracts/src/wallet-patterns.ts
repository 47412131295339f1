/** Message patterns of the wallet service's TCP transport: the API and the wallet meet here. */
export const WalletPatterns = {
  ping: 'wallet.ping',
} as const;

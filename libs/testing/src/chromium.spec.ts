import { browserTestsMaySkip } from './chromium';

describe('browserTestsMaySkip', () => {
  it('lets a machine without a browser skip only when asked by hand, never in CI', () => {
    expect(browserTestsMaySkip({})).toBe(false);
    expect(browserTestsMaySkip({ SKIP_BROWSER_TESTS: '1' })).toBe(true);
    expect(browserTestsMaySkip({ SKIP_BROWSER_TESTS: '0' })).toBe(false);
    expect(browserTestsMaySkip({ SKIP_BROWSER_TESTS: '1', CI: 'true' })).toBe(false);
    expect(browserTestsMaySkip({ SKIP_BROWSER_TESTS: '1', CI: '1' })).toBe(false);
  });
});

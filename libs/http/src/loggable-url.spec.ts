import { loggableUrl } from './logger.module';

describe('loggableUrl: no query value reaches a log line', () => {
  it.each([
    ['/v1/drops/d1/live', '/v1/drops/d1/live'],
    ['/v1/drops/d1/live?access_token=eyJ.x.y', '/v1/drops/d1/live?access_token=[redacted]'],
    ['/ops?access_token=t&drop=d1', '/ops?access_token=[redacted]&drop=[redacted]'],
    ['/x?&&a', '/x?a=[redacted]'],
    ['/x?', '/x?'],
  ])('%s -> %s', (url, logged) => {
    expect(loggableUrl(url)).toBe(logged);
  });
});

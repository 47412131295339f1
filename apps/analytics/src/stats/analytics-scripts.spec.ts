import { headerProblems } from '@flashdrop/lua';
import { ANALYTICS_SOURCES } from './analytics-scripts';

describe('the analytics script', () => {
  it('apply_event: its header lists the KEYS it takes and its answers', () => {
    expect(headerProblems(ANALYTICS_SOURCES.apply_event)).toEqual([]);
  });
});

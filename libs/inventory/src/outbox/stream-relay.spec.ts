import { lingerAfter } from './stream-relay';

describe('lingerAfter (the relay pause between rounds)', () => {
  const linger = (sent: number) => lingerAfter(sent, 500, 25, 100);

  it('does not pause after an empty round (it blocked already) or a full batch (more waits)', () => {
    expect(linger(0)).toBe(0);
    expect(linger(500)).toBe(0);
  });

  it('pauses lingerMs after a trickle, hotLingerMs once a round carried a tenth of a batch', () => {
    expect(linger(1)).toBe(25);
    expect(linger(49)).toBe(25);
    expect(linger(50)).toBe(100);
    expect(linger(499)).toBe(100);
  });

  it('never pauses a hot stream less than a quiet one', () => {
    expect(lingerAfter(100, 500, 25, 10)).toBe(25);
    expect(lingerAfter(100, 500, 0, 0)).toBe(0);
  });
});

import { DomainError } from '@flashdrop/contracts';
import { LiveAdmission } from './live-admission';

const codeOf = (f: () => void) => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as DomainError).code;
  }
};

describe('LiveAdmission: bounds on live streams per caller and in all', () => {
  it('refuses a caller past their bound with 429, the process past its bound with 503', () => {
    const a = new LiveAdmission(2, 3);
    a.admit('op-1');
    a.admit('op-1');
    expect(codeOf(() => a.admit('op-1'))).toBe('TOO_MANY_REQUESTS');
    a.admit('op-2');
    expect(codeOf(() => a.admit('op-3'))).toBe('SERVICE_UNAVAILABLE');
    expect(a.size).toBe(3);
  });

  it('frees a place when a stream ends', () => {
    const a = new LiveAdmission(1, 1);
    a.admit('op-1');
    a.release('op-1');
    expect(codeOf(() => a.admit('op-2'))).toBeUndefined();
    expect(codeOf(() => a.admit('op-1'))).toBe('SERVICE_UNAVAILABLE');
    a.release('op-2');
    a.admit('op-1');
    expect(a.size).toBe(1);
  });
});

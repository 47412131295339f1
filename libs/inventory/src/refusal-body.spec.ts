import { ErrorCodes } from '@flashdrop/contracts';
import { refusalBody, refusalError } from './inventory';

// The grab answers refusals with refusalBody (no Error built on the hot path); every other
// route throws refusalError. Both must give the client the very same body.
describe('refusalBody', () => {
  it.each(ErrorCodes.map((code) => [code]))('%s: the same body as refusalError', (code) => {
    const refusal = { ok: false as const, code };
    expect(refusalBody(refusal)).toEqual(refusalError(refusal).toBody());
  });

  it('keeps the details', () => {
    const refusal = {
      ok: false as const,
      code: 'VALIDATION_FAILED' as const,
      details: [{ field: 'quantity', message: 'quantity must be at most 1' }],
    };
    expect(refusalBody(refusal)).toEqual(refusalError(refusal).toBody());
  });
});

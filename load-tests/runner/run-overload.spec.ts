import { unitsAdrift } from './run-overload';

describe("the overload step's units adrift", () => {
  it('is 0 when the units taken are the held answers', () => {
    expect(unitsAdrift(500, 500, 0)).toBe(0);
  });

  it('is 0 when the extra units went to grabs that got no answer in time', () => {
    expect(unitsAdrift(954, 500, 454)).toBe(0);
    expect(unitsAdrift(700, 500, 454)).toBe(0);
  });

  it('counts units taken beyond every grab that may have held one (a shed grab wrote)', () => {
    expect(unitsAdrift(960, 500, 454)).toBe(6);
  });

  it('counts held answers without a unit as negative', () => {
    expect(unitsAdrift(490, 500, 454)).toBe(-10);
  });
});

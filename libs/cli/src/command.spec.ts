import { defineCommand, helpText, parseFlags, UsageError } from './command';

const spec = defineCommand({
  usage: 'npm run demo --',
  title: 'a demo',
  summary: 'a demo',
  flags: {
    units: { type: 'integer', description: 'units', value: 'N' },
    role: { type: 'string', description: 'role', choices: ['fan', 'brand'] },
    sub: { type: 'string', description: 'subject', required: true },
    full: { type: 'boolean', description: 'the real sale' },
  },
});

describe('command lines', () => {
  it('parses --name=value, --name value and boolean flags', () => {
    expect(parseFlags(spec, ['--units=20', '--role', 'fan', '--sub=a', '--full'])).toEqual({
      units: 20,
      role: 'fan',
      sub: 'a',
      full: true,
    });
    expect(parseFlags(spec, ['--sub', 'a'])).toEqual({
      units: undefined,
      role: undefined,
      sub: 'a',
      full: false,
    });
  });

  it('answers undefined for --help and -h, whatever else is there', () => {
    expect(parseFlags(spec, ['--help'])).toBeUndefined();
    expect(parseFlags(spec, ['--unit=20', '-h'])).toBeUndefined();
  });

  it.each([
    ['a typo of a flag', ['--unit=20', '--sub=a'], "'--unit'"],
    ['a stray argument', ['20', '--sub=a'], '20'],
    ['a missing required flag', ['--units=2'], '--sub is required'],
    ['a value outside the choices', ['--sub=a', '--role=operator'], 'one of fan, brand'],
    ['a word for an integer', ['--sub=a', '--units=many'], 'integer'],
    ['zero for a count', ['--sub=a', '--units=0'], 'at least 1'],
    ['a value for a boolean', ['--sub=a', '--full=yes'], '--full'],
  ])('refuses %s with a message naming it', (_what, argv, says) => {
    expect(() => parseFlags(spec, argv)).toThrow(UsageError);
    expect(() => parseFlags(spec, argv)).toThrow(says);
  });

  it('lists every flag, its value and its choices in the help', () => {
    const help = helpText(spec);
    for (const part of ['usage: npm run demo --', '--units=N', '--role=STRING', 'fan | brand']) {
      expect(help).toContain(part);
    }
    expect(help).toMatch(/--sub=STRING +subject \[required\]/);
  });
});

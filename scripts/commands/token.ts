import { signToken } from '@flashdrop/auth';
import { defineCommand, Flags, UsageError } from '@flashdrop/cli';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { Role, Roles, TIER_PATTERN } from '@flashdrop/contracts';

export const tokenCommand = defineCommand({
  usage: 'npm run token --',
  title: 'mint a development token for a role (fan, brand, operator)',
  summary:
    'Mints a development token (HS256, signed with the JWT_SECRET of the environment it runs in: ' +
    'the dev stack by default) for one role and subject, and prints it on stdout.',
  flags: {
    role: {
      type: 'string',
      value: 'ROLE',
      choices: Roles,
      required: true,
      description: 'the role claim',
    },
    sub: {
      type: 'string',
      value: 'ID',
      description: 'the subject: the fan, brand or operator id (default <role>-dev)',
    },
    tier: {
      type: 'string',
      value: 'TIER',
      description: "a fan's membership tier (1..32 of a-z0-9_-), for members-only drops",
    },
    ttl: { type: 'integer', value: 'SECONDS', description: 'lifetime (default 86,400: a day)' },
    url: {
      type: 'boolean',
      description: "print the operators' dashboard URL that carries the token instead",
    },
  },
  details: [
    'Use it as `Authorization: Bearer <token>`; the dashboard takes it as ?access_token=.',
    'Never for production: a real deployment gets its tokens from its identity provider.',
  ],
  examples: [
    'npm run token -- --role operator --sub ops-1',
    'npm run token -- --role brand --sub brand-acme --ttl 3600',
    'npm run token -- --role fan --sub fan-1 --tier gold',
    'curl -H "Authorization: Bearer $(npm run --silent token -- --role fan --sub fan-1)" http://127.0.0.1:3000/v1/orders',
  ],
});

/** `npm run token`. */
export async function token(flags: Flags<typeof tokenCommand.flags>): Promise<void> {
  const config = loadConfig(FlashdropConfig);
  const role = flags.role as Role;
  if (flags.tier !== undefined && !TIER_PATTERN.test(flags.tier)) {
    throw new UsageError('--tier must be 1..32 of a-z0-9_-');
  }
  const jwt = signToken(
    config.JWT_SECRET,
    { sub: flags.sub ?? `${role}-dev`, role, tier: flags.tier },
    flags.ttl ?? 86_400,
  );
  console.log(
    flags.url
      ? `http://127.0.0.1:${config.API_PORT}/ops?access_token=${encodeURIComponent(jwt)}`
      : jwt,
  );
}

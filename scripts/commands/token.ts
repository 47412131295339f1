import { signToken } from '@flashdrop/auth';
import { defineCommand, Flags } from '@flashdrop/cli';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { Role, Roles } from '@flashdrop/contracts';

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
    'curl -H "Authorization: Bearer $(npm run --silent token -- --role fan --sub fan-1)" http://127.0.0.1:3000/v1/orders',
  ],
});

/** `npm run token`. */
export async function token(flags: Flags<typeof tokenCommand.flags>): Promise<void> {
  const config = loadConfig(FlashdropConfig);
  const role = flags.role as Role;
  const jwt = signToken(
    config.JWT_SECRET,
    { sub: flags.sub ?? `${role}-dev`, role },
    flags.ttl ?? 86_400,
  );
  console.log(
    flags.url
      ? `http://127.0.0.1:${config.API_PORT}/ops?access_token=${encodeURIComponent(jwt)}`
      : jwt,
  );
}

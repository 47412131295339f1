import { QueryFailedError } from 'typeorm';
import { isPostgresUnavailable } from './postgres-deadline';

const driverError = (message: string, code?: string) =>
  Object.assign(new Error(message), code === undefined ? {} : { code });
const wrapped = (e: Error) => new QueryFailedError('SELECT 1', [], e);

describe('isPostgresUnavailable', () => {
  it.each([
    ['the client deadline', wrapped(driverError('Query read timeout'))],
    [
      'statement_timeout',
      wrapped(driverError('canceling statement due to statement timeout', '57014')),
    ],
    ['a full pool', driverError('timeout exceeded when trying to connect')],
    ['a connect that timed out', driverError('Connection terminated due to connection timeout')],
    ['a lost connection', wrapped(driverError('Connection terminated unexpectedly'))],
    ['a server that is down', driverError('connect ECONNREFUSED 127.0.0.1:5433', 'ECONNREFUSED')],
    ['a server shutting down', wrapped(driverError('terminating connection', '57P01'))],
    ['a server starting up', driverError('the database system is starting up', '57P03')],
    ['a connection exception', wrapped(driverError('connection failure', '08006'))],
  ])('is true for %s', (_what, error) => {
    expect(isPostgresUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', wrapped(driverError('duplicate key', '23505'))],
    ['a check violation', wrapped(driverError('violates check constraint', '23514'))],
    ['a syntax error', wrapped(driverError('syntax error', '42601'))],
    ['any other error', new Error('boom')],
    ['a non-error', 'Query read timeout'],
  ])('is false for %s: not an outage, a bug or a refusal', (_what, error) => {
    expect(isPostgresUnavailable(error)).toBe(false);
  });
});

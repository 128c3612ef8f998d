import { DatabaseError } from 'pg';
import { redactSecrets, redactUrl } from './common/secrets';
import { InvalidEnvironmentError } from './config/validate-env';
import { describeStartFailure } from './start-failure';

const PASSWORD = 'Sup3r-s3cret/pw';
const DATABASE_URL = `postgres://clariops:${encodeURIComponent(PASSWORD)}@db.internal:6543/clariops`;

const socketError = (
  code: string,
  fields: Record<string, unknown>,
  message: string,
) => Object.assign(new Error(message), { code, ...fields });

describe('describeStartFailure', () => {
  it('names DATABASE_URL, with its password masked, when the server refuses connections', () => {
    const error = socketError(
      'ECONNREFUSED',
      { address: '10.0.0.5', port: 6543, syscall: 'connect' },
      'connect ECONNREFUSED 10.0.0.5:6543',
    );

    const message = describeStartFailure(error, { DATABASE_URL });

    expect(message).toBe(
      'ClariOps failed to start: the PostgreSQL database of DATABASE_URL (postgres://clariops:****@db.internal:6543/clariops) could not be opened: connect ECONNREFUSED 10.0.0.5:6543',
    );
    expect(message).not.toContain(PASSWORD);
    expect(message).not.toContain(encodeURIComponent(PASSWORD));
  });

  it('names DATABASE_URL for an unknown host, a rejected password and a cut connection', () => {
    const errors = [
      socketError(
        'ENOTFOUND',
        { hostname: 'db.internal', syscall: 'getaddrinfo' },
        'getaddrinfo ENOTFOUND db.internal',
      ),
      new DatabaseError(
        'password authentication failed for user "clariops"',
        0,
        'error',
      ),
      new Error('Connection terminated unexpectedly'),
      // localhost: one refusal per address, and no message of its own.
      new AggregateError([
        socketError(
          'ECONNREFUSED',
          { port: 6543 },
          'connect ECONNREFUSED ::1:6543',
        ),
        socketError(
          'ECONNREFUSED',
          { port: 6543 },
          'connect ECONNREFUSED 127.0.0.1:6543',
        ),
      ]),
    ];
    for (const error of errors) {
      const message = describeStartFailure(error, { DATABASE_URL });
      expect(message).toMatch(/^ClariOps failed to start: .*DATABASE_URL \(/);
      expect(message).not.toContain(PASSWORD);
    }
    expect(describeStartFailure(errors[3], { DATABASE_URL })).toContain(
      'connect ECONNREFUSED ::1:6543; connect ECONNREFUSED 127.0.0.1:6543',
    );
  });

  it('does not blame the database for a refused connection to another port, nor without DATABASE_URL', () => {
    const elsewhere = socketError(
      'ECONNREFUSED',
      { port: 6379 },
      'connect ECONNREFUSED 127.0.0.1:6379',
    );
    expect(describeStartFailure(elsewhere, { DATABASE_URL })).not.toContain(
      'DATABASE_URL',
    );
    const refused = socketError(
      'ECONNREFUSED',
      { port: 5432 },
      'connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(describeStartFailure(refused, {})).toMatch(
      /^ClariOps failed to start: Error: connect ECONNREFUSED 127\.0\.0\.1:5432\n\s+at /,
    );
  });

  it('never prints the password of DATABASE_URL or REDIS_URL, whatever the error quotes', () => {
    const error = new Error(
      `cannot use redis://:hunter2@cache:6379 or ${DATABASE_URL}`,
    );
    const message = describeStartFailure(error, {
      DATABASE_URL,
      REDIS_URL: 'redis://:hunter2@cache:6379',
    });
    expect(message).toContain('ClariOps failed to start');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain(encodeURIComponent(PASSWORD));
  });

  it('prints a bad environment as validation reported it', () => {
    const error = new InvalidEnvironmentError(['PORT: must be an integer']);
    expect(describeStartFailure(error, { DATABASE_URL })).toBe(error.message);
  });
});

describe('redactUrl', () => {
  it('masks the password and keeps the rest', () => {
    expect(redactUrl('postgres://u:p%40ss@h:5432/d?sslmode=require')).toBe(
      'postgres://u:****@h:5432/d?sslmode=require',
    );
    expect(redactUrl('redis://cache:6379')).toBe('redis://cache:6379');
  });

  it('leaves out a value that is not a URL', () => {
    expect(redactUrl('::secret@host')).not.toContain('secret');
  });
});

describe('redactSecrets', () => {
  it('masks each secret, raw or URL-encoded', () => {
    expect(redactSecrets('a p@ss b p%40ss c', ['p@ss', null])).toBe(
      'a **** b **** c',
    );
  });
});

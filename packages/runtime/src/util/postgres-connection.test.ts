import { describe, expect, it } from 'vitest';
import { MetadataError } from '../components/metadata.js';
import { describePostgresTarget, parsePostgresConnection, postgresUrl } from './postgres-connection.js';

describe('parsePostgresConnection', () => {
  it('reads both forms Dapr accepts', () => {
    expect(parsePostgresConnection('postgres://u@h:1/d')).toEqual({ connectionString: 'postgres://u@h:1/d' });
    expect(parsePostgresConnection('host=127.0.0.1 port=5432 user=postgres dbname=test pool_max_conns=4 search_path=app')).toEqual({
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      database: 'test',
      options: '-c search_path=app',
    });
  });

  it('names the field and refuses a keyword it would otherwise drop', () => {
    expect(() => parsePostgresConnection('host=h target_session_attrs=any', 'connectionString')).toThrow(
      /"connectionString".*"target_session_attrs" is not supported/,
    );
    expect(() => parsePostgresConnection('', '--connection-string')).toThrow(MetadataError);
  });
});

describe('postgresUrl', () => {
  it('turns a key=value DSN into the URL code that takes only URLs needs', () => {
    expect(postgresUrl('host=127.0.0.1 port=5432 user=postgres dbname=test')).toBe('postgres://postgres@127.0.0.1:5432/test');
    expect(postgresUrl("host=db user='a b' password='p@ss w' dbname=x sslmode=disable")).toBe('postgres://a%20b:p%40ss%20w@db/x?sslmode=disable');
    expect(postgresUrl('host=/var/run/postgresql dbname=x')).toBe('postgres:///x?host=%2Fvar%2Frun%2Fpostgresql');
    expect(postgresUrl('postgresql://u@h/d')).toBe('postgresql://u@h/d');
  });

  it('describes the target without credentials', () => {
    expect(describePostgresTarget(parsePostgresConnection('postgres://u:secret@db.local:6543/app'))).toBe('db.local:6543/app');
    expect(describePostgresTarget(parsePostgresConnection('host=db password=secret dbname=app'))).toBe('db:5432/app');
  });
});

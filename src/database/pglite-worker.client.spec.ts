import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PgliteWorkerClient } from './pglite-worker.client';

const MIGRATIONS = join(__dirname, '..', '..', 'drizzle');

describe('PgliteWorkerClient (PGlite on a worker thread)', () => {
  let client: PgliteWorkerClient;

  beforeAll(async () => {
    client = await PgliteWorkerClient.start({
      location: 'memory://',
      migrationsFolder: MIGRATIONS,
    });
    await client.exec('create table probe (id int primary key, note text)');
  });
  afterAll(async () => {
    await client.close();
  });

  it('answers queries in either row mode, with the migrations applied', async () => {
    const objects = await client.query<{ n: number }>(
      'select count(*)::int as n from conversations',
    );
    expect(objects.rows).toEqual([{ n: 0 }]);
    const arrays = await client.query<unknown[]>(
      'select $1::int, $2::text',
      [7, 'x'],
      {
        rowMode: 'array',
      },
    );
    expect(arrays.rows).toEqual([[7, 'x']]);
  });

  it("passes Postgres's error fields back to the caller", async () => {
    await client.query('insert into probe values (1, $1)', ['first']);
    await expect(
      client.query('insert into probe values (1, $1)', ['again']),
    ).rejects.toMatchObject({
      code: '23505',
      message: expect.stringContaining('duplicate key'),
    });
  });

  it('runs a statement again and again with parameters of every kind, as PGlite would', async () => {
    const text =
      'select $1::int as n, $2::jsonb as doc, $3::timestamptz as at, $4::text as note, $5::bigint[] as ids';
    for (let n = 0; n < 12; n++) {
      const { rows } = await client.query<Record<string, unknown>>(text, [
        n,
        JSON.stringify({ n, text: "it's" }),
        new Date(Date.UTC(2026, 11, 1, 0, 0, n)),
        n % 2 ? null : `note ${n}`,
        [n, n + 1],
      ]);
      expect(rows).toEqual([
        {
          n,
          doc: { n, text: "it's" },
          // Timestamps stay text, as Drizzle asks of PGlite.
          at: `2026-12-01 00:00:${String(n).padStart(2, '0')}+00`,
          note: n % 2 ? null : `note ${n}`,
          ids: [n, n + 1],
        },
      ]);
    }
  });

  it('plans a prepared statement once instead of again for each execution', async () => {
    const text =
      'select note from probe where id = any($1::int[]) and note <> $2';
    for (let n = 0; n < 8; n++) await client.query(text, [[n], 'none']);
    const { rows } = await client.query<{ generic: number; custom: number }>(
      `select generic_plans::int as generic, custom_plans::int as custom
         from pg_prepared_statements where statement = $1`,
      [text],
    );
    // PostgreSQL's default would plan the first five executions (at least)
    // for their parameters.
    expect(rows).toEqual([{ generic: 8, custom: 0 }]);
  });

  it('keeps answering after a failed statement, and past the number of statements it keeps prepared', async () => {
    await expect(client.query('select 1 / $1::int', [0])).rejects.toMatchObject(
      {
        code: '22012',
      },
    );
    await expect(
      client.query('select 1 / $1::int as q', [1]),
    ).resolves.toMatchObject({
      rows: [{ q: 1 }],
    });
    for (let n = 0; n < 300; n++) {
      const { rows } = await client.query<{ v: number }>(
        `select $1::int + ${n} as v`,
        [1],
      );
      expect(rows).toEqual([{ v: n + 1 }]);
    }
    // The first of those was closed to make room; it is prepared again.
    await expect(
      client.query('select $1::int + 0 as v', [5]),
    ).resolves.toMatchObject({ rows: [{ v: 5 }] });
  });

  it('waits for an open transaction before running a statement outside it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = client.transaction(async (tx) => {
      await tx.query('insert into probe values (40, $1)', ['uncommitted']);
      await held;
      throw new Error('roll it back');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Run alone, this must not see (or join) the open transaction.
    const outside = client.query<{ n: number }>(
      'select count(*)::int as n from probe where id = 40',
    );
    release();
    await expect(transaction).rejects.toThrow('roll it back');
    expect((await outside).rows).toEqual([{ n: 0 }]);
  });

  it('commits a transaction whose callback succeeds and rolls back one that throws', async () => {
    await client.transaction(async (tx) => {
      await tx.query('insert into probe values (2, $1)', ['kept']);
    });
    await expect(
      client.transaction(async (tx) => {
        await tx.query('insert into probe values (3, $1)', ['dropped']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const { rows } = await client.query<{ id: number }>(
      'select id from probe where id in (2, 3) order by id',
    );
    expect(rows).toEqual([{ id: 2 }]);
  });

  it('reports a statement that does not parse, and keeps answering', async () => {
    await expect(client.query('selec 1')).rejects.toMatchObject({
      code: '42601',
    });
    await expect(client.query('select 2 as two')).resolves.toMatchObject({
      rows: [{ two: 2 }],
    });
  });

  it('rolls back a transaction whose statement failed, and the statements it prepared still work after', async () => {
    const fresh = 'insert into probe values ($1::int, $2::text)';
    await expect(
      client.transaction(async (tx) => {
        // First use of this text: prepared inside the transaction.
        await tx.query(fresh, [50, 'rolled back']);
        await tx.query('insert into probe values (50, $1)', ['duplicate']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    await client.query(fresh, [51, 'after']);
    const { rows } = await client.query<{ id: number }>(
      'select id from probe where id in (50, 51) order by id',
    );
    expect(rows).toEqual([{ id: 51 }]);
  });

  it('runs a script as one transaction: a failing statement undoes the ones before it', async () => {
    const [inserted, counted] = await client.script([
      { sql: 'insert into probe values (10, $1) returning id', params: ['a'] },
      { sql: 'select count(*)::int as n from probe where id = 10', params: [] },
    ]);
    expect(inserted).toEqual([{ id: 10 }]);
    expect(counted).toEqual([{ n: 1 }]);
    await expect(
      client.script([
        { sql: 'insert into probe values (11, $1)', params: ['b'] },
        { sql: 'insert into probe values (10, $1)', params: ['duplicate'] },
      ]),
    ).rejects.toMatchObject({ code: '23505' });
    const { rows } = await client.query('select id from probe where id = 11');
    expect(rows).toEqual([]);
  });

  describe('closing', () => {
    // A healthy thread ends by itself once PGlite is closed; terminating it
    // (while its WebAssembly may be running) is only for a stuck one.
    let terminate: jest.SpyInstance;
    beforeEach(() => {
      terminate = jest.spyOn(Worker.prototype, 'terminate');
    });
    afterEach(() => terminate.mockRestore());

    it('answers the statements sent before it, refuses later ones, and the thread ends by itself', async () => {
      const other = await PgliteWorkerClient.start({
        location: 'memory://',
        migrationsFolder: MIGRATIONS,
      });
      const sentBefore = Array.from({ length: 20 }, (_, n) =>
        other.query<{ n: number }>('select $1::int as n', [n]),
      );
      const closing = other.close();
      const sentAfter = other.query('select 1');

      const answers = await Promise.all(sentBefore);
      expect(answers.map(({ rows }) => rows[0].n)).toEqual(
        Array.from({ length: 20 }, (_, n) => n),
      );
      await expect(sentAfter).rejects.toThrow(/closed/);
      // Twice is the same close.
      await Promise.all([closing, other.close()]);
      expect(other.closed).toBe(true);
      await expect(other.query('select 1')).rejects.toThrow(/closed/);
      expect(terminate).not.toHaveBeenCalled();
    });

    it('rolls back a transaction under way at close, refusing its later statements instead of committing them', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'clariops-close-'));
      try {
        const other = await PgliteWorkerClient.start({
          location: dataDir,
          migrationsFolder: MIGRATIONS,
        });
        await other.exec('create table probe (id int primary key)');
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let entered!: () => void;
        const inside = new Promise<void>((resolve) => (entered = resolve));
        const transaction = other.transaction(async (tx) => {
          await tx.query('insert into probe values (1)');
          entered();
          await held;
          await tx.query('insert into probe values (2)');
        });
        await inside;
        const closing = other.close();
        release();
        await expect(transaction).rejects.toThrow(/closed/);
        await closing;
        expect(terminate).not.toHaveBeenCalled();

        const reopened = await PgliteWorkerClient.start({
          location: dataDir,
          migrationsFolder: MIGRATIONS,
        });
        try {
          const { rows } = await reopened.query('select id from probe');
          expect(rows).toEqual([]);
        } finally {
          await reopened.close();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('lets a thread that failed to start end by itself, naming the cause', async () => {
      await expect(
        PgliteWorkerClient.start({
          location: 'memory://',
          migrationsFolder: '/nonexistent/migrations',
        }),
      ).rejects.toThrow(/migrat|journal|no such file|ENOENT/i);
      expect(terminate).not.toHaveBeenCalled();
    });
  });

  it('refuses at once, saying what to run, on a Node that cannot strip types', async () => {
    const typescript = Object.getOwnPropertyDescriptor(
      process.features,
      'typescript',
    )!;
    Object.defineProperty(process.features, 'typescript', { value: false });
    try {
      await expect(
        PgliteWorkerClient.start({
          location: 'memory://',
          migrationsFolder: MIGRATIONS,
        }),
      ).rejects.toThrow(/type stripping.*npm test.*Node 24/);
    } finally {
      Object.defineProperty(process.features, 'typescript', typescript);
    }
  });

  describe('the V8 flag against the wrapper abort of Node 24 (issue 11)', () => {
    type Client = typeof import('./pglite-worker.client');
    // Node's own module object, which the client calls through.
    const v8 = jest.requireActual<typeof import('node:v8')>('node:v8');
    const freshClient = () => {
      let loaded!: Client;
      jest.isolateModules(() => {
        loaded = jest.requireActual<Client>('./pglite-worker.client');
      });
      return loaded;
    };

    it('puts the wrapper tier-up budget out of reach once, unless the command line gives one', () => {
      const setFlags = jest
        .spyOn(v8, 'setFlagsFromString')
        .mockImplementation(() => undefined);
      const execArgv = process.execArgv;
      try {
        const once = freshClient();
        once.keepWasmImportWrappersGeneric();
        once.keepWasmImportWrappersGeneric();
        expect(setFlags.mock.calls).toEqual([
          ['--wasm-wrapper-tiering-budget=2147483647'],
        ]);

        setFlags.mockClear();
        process.execArgv = [...execArgv, '--wasm-wrapper-tiering-budget=1000'];
        freshClient().keepWasmImportWrappersGeneric();
        expect(setFlags).not.toHaveBeenCalled();
      } finally {
        process.execArgv = execArgv;
        setFlags.mockRestore();
      }
    });
  });
});

/**
 * A turn with knowledge retrieval against one without, with instant fakes:
 * two built apps (dist/main.js, embedded PGlite, REPLY_DEBOUNCE_MS=0) run
 * side by side, one with the fixture shop's documents (test/fixtures/
 * knowledge) plus FILLER synthetic documents loaded through the admin API,
 * the other with no knowledge. Messages alternate between them, so both
 * see the same machine. Fakes in this process answer at once: Chat
 * Completions, `/embeddings` (deterministic 1,536-dimension vectors, as
 * base64 like the SDK asks) and the Graph API's sends. Each message is timed
 * from the webhook's post to the reply reaching the fake Graph API. The
 * difference is what the knowledge check, the query's embedding call, both
 * rankings, the fusion and recording the step add to a turn; a real
 * embedding endpoint's latency (tens to hundreds of ms) comes on top.
 * Not part of `npm run bench`; run it alone after `npm run build`:
 *   node -r ts-node/register/transpile-only bench/knowledge-turn.ts
 *   MESSAGES=200 FILLER=100 node -r ts-node/register/transpile-only bench/knowledge-turn.ts
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chatCompletion,
  json,
  readBody,
  ReplyTimer,
} from './lib/instant-fakes';
import { ServerProcess } from './lib/processes';
import { round, summarise } from './lib/stats';
import {
  ACCESS_TOKEN,
  API_VERSION,
  APP_SECRET,
  PHONE_NUMBER_ID,
  textWebhookBody,
  wamidFor,
  waIdFor,
} from './lib/webhook';

const messages = Math.max(4, Number(process.env.MESSAGES) || 100);
const filler = Number(process.env.FILLER ?? 40);
const DIMS = 1536;
const ADMIN_KEY = 'bench-admin-key-0123456789';
const FIXTURES = join(__dirname, '..', 'test', 'fixtures', 'knowledge');
const QUESTIONS = [
  'How long does delivery to the islands take?',
  'Can I return a jacket I bought on sale?',
  'Do you accept payment by bank transfer?',
  'What does the warranty cover?',
];

/** A unit vector seeded by the text: the same text, the same vector. */
function vectorOf(text: string): Float32Array {
  const vector = new Float32Array(DIMS);
  let seed = createHash('sha256').update(text).digest().readUInt32LE(0);
  let norm = 0;
  for (let i = 0; i < DIMS; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    vector[i] = seed / 2 ** 32 - 0.5;
    norm += vector[i] * vector[i];
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < DIMS; i++) vector[i] *= scale;
  return vector;
}

const replies = new ReplyTimer();

const fakes = createServer((req, res) => {
  void readBody(req).then((raw) => {
    const path = (req.url ?? '').split('?')[0];
    if (path.endsWith('/chat/completions')) {
      return json(res, 200, chatCompletion('Noted, thank you!'));
    }
    if (path.endsWith('/embeddings')) {
      const body = JSON.parse(raw.toString('utf8')) as {
        input: string | string[];
        model: string;
        encoding_format?: string;
      };
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return json(res, 200, {
        object: 'list',
        model: body.model,
        data: inputs.map((input, index) => {
          const vector = vectorOf(input);
          return {
            object: 'embedding',
            index,
            embedding:
              body.encoding_format === 'base64'
                ? Buffer.from(vector.buffer).toString('base64')
                : Array.from(vector),
          };
        }),
        usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
      });
    }
    if (path.endsWith('/messages')) return replies.answerSend(raw, res);
    json(res, 404, { error: { message: `no route ${path}` } });
  });
});

async function addDocument(app: string, title: string, text: string) {
  const res = await fetch(`${app}/api/knowledge`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ title, text }),
  });
  if (res.status !== 201) {
    throw new Error(`knowledge upload answered ${res.status}`);
  }
  return ((await res.json()) as { data: { chunks: number } }).data.chunks;
}

/** A synthetic shop document of a few sections. */
function fillerDocument(n: number): string {
  const words = ['order', 'parcel', 'size', 'colour', 'voucher', 'store'];
  return Array.from({ length: 6 }, (_, s) =>
    [
      `## Topic ${n}.${s}`,
      '',
      Array.from(
        { length: 60 },
        (_, w) => `${words[(n + s + w) % words.length]}${(n * 7 + w) % 97}`,
      ).join(' '),
    ].join('\n'),
  ).join('\n\n');
}

async function main() {
  await new Promise<void>((resolve) =>
    fakes.listen(0, '127.0.0.1', () => resolve()),
  );
  const baseUrl = `http://127.0.0.1:${(fakes.address() as AddressInfo).port}`;
  const env = (dataDir: string) => ({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    REPLY_DEBOUNCE_MS: '0',
    ADMIN_API_KEY: ADMIN_KEY,
    OPENAI_API_KEY: 'bench-key',
    OPENAI_BASE_URL: `${baseUrl}/v1`,
    WHATSAPP_API_BASE_URL: baseUrl,
    WHATSAPP_API_VERSION: API_VERSION,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
    WHATSAPP_APP_SECRET: APP_SECRET,
  });
  const dirs = [0, 1].map(() =>
    mkdtempSync(join(tmpdir(), 'clariops-knowledge-bench-')),
  );
  const withKnowledge = await ServerProcess.startApp(
    'ClariOps (knowledge)',
    env(dirs[0]),
  );
  const without = await ServerProcess.startApp(
    'ClariOps (no knowledge)',
    env(dirs[1]),
  );
  const timed = { with: [] as number[], without: [] as number[] };
  let chunks = 0;
  try {
    for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(FIXTURES, file), 'utf8');
      chunks += await addDocument(withKnowledge.url, file, text);
    }
    for (let n = 0; n < filler; n++) {
      chunks += await addDocument(
        withKnowledge.url,
        `Filler ${n}`,
        fillerDocument(n),
      );
    }
    for (let n = 0; n < messages; n++) {
      // One new customer per message: no context, no flood control.
      const waId = waIdFor('4931', n);
      const body = textWebhookBody({
        waId,
        name: 'Bench',
        wamid: wamidFor('KNOW', n),
        timestamp: Math.floor(Date.now() / 1000),
        text: QUESTIONS[Math.floor(n / 2) % QUESTIONS.length],
      });
      if (n % 2 === 0) {
        timed.with.push(await replies.turn(withKnowledge.url, waId, body));
      } else {
        timed.without.push(await replies.turn(without.url, waId, body));
      }
    }
  } finally {
    await withKnowledge.stop();
    await without.stop();
    fakes.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  // The first of each warms up (JIT, prepared statements, the vector load): left out.
  const w = summarise(timed.with.slice(1));
  const o = summarise(timed.without.slice(1));
  console.log(
    `| Turn (webhook posted → reply sent), knowledge of ${chunks} chunks | n | p50 ms | p90 ms | p99 ms |`,
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  console.log(
    `| no knowledge | ${o.count} | ${round(o.p50)} | ${round(o.p90)} | ${round(o.p99)} |`,
  );
  console.log(
    `| with retrieval | ${w.count} | ${round(w.p50)} | ${round(w.p90)} | ${round(w.p99)} |`,
  );
  console.log(
    `| retrieval − none | | ${round(w.p50 - o.p50)} | ${round(w.p90 - o.p90)} | ${round(w.p99 - o.p99)} |`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

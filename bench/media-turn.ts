/**
 * A voice-note turn's overhead against a text turn, with instant fakes: the
 * built app (dist/main.js, embedded PGlite, REPLY_DEBOUNCE_MS=0) answers one
 * customer message at a time, alternating a text and a voice note (an
 * Ogg/Opus file of ROUNDS frames). Fakes in this process answer at once:
 * Chat Completions, `/audio/transcriptions`, the Graph API's sends, the
 * media id and the media download. Each message is timed from the webhook's
 * post to the reply reaching the fake Graph API. Prints the latency of each
 * kind and the difference, which is what downloading, sniffing, storing
 * and transcribing add to a turn.
 * Not part of `npm run bench`; run it alone after `npm run build`:
 *   node -r ts-node/register/transpile-only bench/media-turn.ts
 *   MESSAGES=200 node -r ts-node/register/transpile-only bench/media-turn.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oggOpusVoiceNote } from '../test/support/media-fixtures';
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

const messages = Math.max(2, Number(process.env.MESSAGES) || 100);
const voiceNote = oggOpusVoiceNote(Number(process.env.FRAMES) || 250);
const MEDIA_ID = '1013859600285441';

const replies = new ReplyTimer();
let baseUrl = '';

const fakes = createServer((req, res) => {
  void readBody(req).then((raw) => {
    const path = (req.url ?? '').split('?')[0];
    if (path.endsWith('/chat/completions')) {
      return json(res, 200, chatCompletion('Noted, thank you!'));
    }
    if (path.endsWith('/audio/transcriptions')) {
      return json(res, 200, { text: 'Where is my order?' });
    }
    if (path === `/${API_VERSION}/${MEDIA_ID}`) {
      return json(res, 200, {
        messaging_product: 'whatsapp',
        url: `${baseUrl}/media-download/${MEDIA_ID}`,
        mime_type: 'audio/ogg; codecs=opus',
        sha256: 'bench',
        file_size: String(voiceNote.length),
        id: MEDIA_ID,
      });
    }
    if (path === `/media-download/${MEDIA_ID}`) {
      res.writeHead(200, {
        'content-type': 'audio/ogg',
        'content-length': voiceNote.length,
      });
      return res.end(voiceNote);
    }
    if (path.endsWith('/messages')) return replies.answerSend(raw, res);
    json(res, 404, { error: { message: `no route ${path}` } });
  });
});

function voiceWebhookBody(waId: string, wamid: string): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: '15550783881',
                phone_number_id: PHONE_NUMBER_ID,
              },
              contacts: [{ profile: { name: 'Bench' }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: wamid,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: 'audio',
                  audio: {
                    id: MEDIA_ID,
                    mime_type: 'audio/ogg; codecs=opus',
                    voice: true,
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

async function main() {
  await new Promise<void>((resolve) =>
    fakes.listen(0, '127.0.0.1', () => resolve()),
  );
  baseUrl = `http://127.0.0.1:${(fakes.address() as AddressInfo).port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'clariops-media-bench-'));
  const app = await ServerProcess.startApp('ClariOps', {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    REPLY_DEBOUNCE_MS: '0',
    OPENAI_API_KEY: 'bench-key',
    OPENAI_BASE_URL: `${baseUrl}/v1`,
    WHATSAPP_API_BASE_URL: baseUrl,
    WHATSAPP_API_VERSION: API_VERSION,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
    WHATSAPP_APP_SECRET: APP_SECRET,
  });
  const text: number[] = [];
  const voice: number[] = [];
  try {
    for (let n = 0; n < messages; n++) {
      // One new customer per message: no context, no flood control.
      const waId = waIdFor('4930', n);
      const wamid = wamidFor('MEDIA', n);
      if (n % 2 === 0) {
        const body = textWebhookBody({
          waId,
          name: 'Bench',
          wamid,
          timestamp: Math.floor(Date.now() / 1000),
          text: 'Where is my order?',
        });
        text.push(await replies.turn(app.url, waId, body));
      } else {
        voice.push(
          await replies.turn(app.url, waId, voiceWebhookBody(waId, wamid)),
        );
      }
    }
  } finally {
    await app.stop();
    fakes.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  // The first of each kind warms up (JIT, prepared statements): left out.
  const t = summarise(text.slice(1));
  const v = summarise(voice.slice(1));
  console.log(
    `| Turn (webhook posted → reply sent), ${voiceNote.length}-byte voice note | n | p50 ms | p90 ms | p99 ms |`,
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  console.log(
    `| text | ${t.count} | ${round(t.p50)} | ${round(t.p90)} | ${round(t.p99)} |`,
  );
  console.log(
    `| voice note | ${v.count} | ${round(v.p50)} | ${round(v.p90)} | ${round(v.p99)} |`,
  );
  console.log(
    `| voice note − text | | ${round(v.p50 - t.p50)} | ${round(v.p90 - t.p90)} | ${round(v.p99 - t.p99)} |`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

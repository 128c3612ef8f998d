/**
 * Instant fakes of the two services a turn calls, speaking their real HTTP
 * shapes, in a process of their own (forked by run.ts, IPC):
 *
 * - OpenAI Chat Completions: `POST /v1/chat/completions` answers a
 *   `chat.completion` with `usage`;
 * - WhatsApp Cloud API: `POST /{version}/{phone-number-id}/messages` answers
 *   `{messaging_product, contacts, messages:[{id}]}` for a send and
 *   `{success:true}` for a read receipt / typing indicator.
 *
 * The Graph fake notes when the first text for each recipient arrived
 * (monotonic clock, comparable with the load generator's), which is how the
 * reply pipeline's inbound-to-send latency is measured.
 */
import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { monoMs } from './lib/stats';

const REPLY =
  'Thanks for your message! Your order is on its way and should arrive within two working days.';

const counts = { llm: 0, sends: 0, reads: 0, rejected: 0 };
/** Recipient digits → monotonic ms of the first text sent to them since the last reset. */
let firstReply = new Map<string, number>();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const llm = createServer((req, res) => {
  void readBody(req).then((raw) => {
    if (
      req.method !== 'POST' ||
      !req.url?.replace(/\/$/, '').endsWith('/chat/completions')
    ) {
      counts.rejected++;
      return json(res, 404, {
        error: { message: 'not found', type: 'invalid_request_error' },
      });
    }
    counts.llm++;
    let model = 'bench-model';
    let promptChars = 0;
    try {
      const body = JSON.parse(raw) as {
        model?: string;
        messages?: Array<{ content?: unknown }>;
      };
      model = body.model ?? model;
      for (const m of body.messages ?? [])
        promptChars +=
          typeof m.content === 'string'
            ? m.content.length
            : JSON.stringify(m.content ?? '').length;
    } catch {
      counts.rejected++;
      return json(res, 400, {
        error: { message: 'invalid JSON', type: 'invalid_request_error' },
      });
    }
    const promptTokens = Math.ceil(promptChars / 4);
    const completionTokens = Math.ceil(REPLY.length / 4);
    json(res, 200, {
      id: `chatcmpl-${randomBytes(12).toString('base64url')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: REPLY,
            refusal: null,
            annotations: [],
          },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
      service_tier: 'default',
      system_fingerprint: 'fp_bench',
    });
  });
});

let wamidCounter = 0;
const graph = createServer((req, res) => {
  void readBody(req).then((raw) => {
    const now = monoMs();
    if (
      req.method !== 'POST' ||
      !/^\/v\d+\.\d+\/[^/]+\/messages$/.test(req.url ?? '')
    ) {
      counts.rejected++;
      return json(res, 404, {
        error: { message: 'Unknown path', type: 'OAuthException', code: 100 },
      });
    }
    let body: {
      status?: string;
      to?: string;
      type?: string;
      messaging_product?: string;
    };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      counts.rejected++;
      return json(res, 400, {
        error: { message: 'Invalid JSON', type: 'OAuthException', code: 100 },
      });
    }
    if (body.status === 'read') {
      counts.reads++;
      return json(res, 200, { success: true });
    }
    const to = String(body.to ?? '');
    const digits = to.replace(/\D/g, '');
    if (body.messaging_product !== 'whatsapp' || !digits) {
      counts.rejected++;
      return json(res, 400, {
        error: {
          message: 'Invalid parameter',
          type: 'OAuthException',
          code: 100,
        },
      });
    }
    counts.sends++;
    if (!firstReply.has(digits)) firstReply.set(digits, now);
    wamidCounter++;
    json(res, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: to, wa_id: digits }],
      messages: [
        {
          id: `wamid.HBgLbench${wamidCounter.toString(36).padStart(10, '0')}AA==`,
        },
      ],
    });
  });
});

type Command = { cmd: 'collect' } | { cmd: 'count' } | { cmd: 'reset' };

process.on('message', (message: Command) => {
  if (message.cmd === 'collect') {
    process.send?.({
      type: 'collected',
      replies: [...firstReply],
      counts: { ...counts },
    });
  } else if (message.cmd === 'count') {
    process.send?.({
      type: 'counted',
      recipients: firstReply.size,
      counts: { ...counts },
    });
  } else if (message.cmd === 'reset') {
    firstReply = new Map();
    process.send?.({ type: 'reset-done' });
  }
});
process.on('disconnect', () => process.exit(0));

llm.keepAliveTimeout = 60_000;
graph.keepAliveTimeout = 60_000;
llm.listen(0, '127.0.0.1', () => {
  graph.listen(0, '127.0.0.1', () => {
    process.send?.({
      type: 'ready',
      llmPort: (llm.address() as AddressInfo).port,
      graphPort: (graph.address() as AddressInfo).port,
    });
  });
});

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monoMs } from './stats';
import { signature } from './webhook';

/**
 * Pieces of the instant fakes the turn benches (media-turn, knowledge-turn)
 * serve from one HTTP server in their own process: Chat Completions and the
 * Graph API's sends answer at once, and each reply is timed to its customer.
 */

export const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

export const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
};

/** A Chat Completions answer saying `content`. */
export const chatCompletion = (content: string) => ({
  id: `chatcmpl-${randomBytes(6).toString('hex')}`,
  object: 'chat.completion',
  created: Math.floor(Date.now() / 1000),
  model: 'bench-model',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
});

/** Times turns: from a webhook's post to the fake Graph API receiving the reply. */
export class ReplyTimer {
  /** Recipient → resolves when a text for it reaches the fake. */
  private readonly waiting = new Map<string, () => void>();

  /** Answers a Graph API `/messages` request (a read receipt or a send), noting texts. */
  answerSend(raw: Buffer, res: ServerResponse): void {
    const body = JSON.parse(raw.toString('utf8')) as {
      to?: string;
      type?: string;
      status?: string;
    };
    if (body.status === 'read') return json(res, 200, { success: true });
    if (body.type === 'text' && body.to) {
      this.waiting.get(body.to.replace(/\D/g, ''))?.();
    }
    json(res, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: body.to, wa_id: body.to }],
      messages: [{ id: `wamid.out${randomBytes(8).toString('hex')}` }],
    });
  }

  /** Posts one signed webhook and resolves with the ms until its reply was sent. */
  async turn(app: string, waId: string, body: string): Promise<number> {
    const replied = new Promise<void>((resolve) =>
      this.waiting.set(waId, resolve),
    );
    const started = monoMs();
    const res = await fetch(`${app}/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signature(body),
      },
      body,
    });
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
    await replied;
    this.waiting.delete(waId);
    return monoMs() - started;
  }
}

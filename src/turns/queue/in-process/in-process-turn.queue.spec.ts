import { validateEnv } from '../../../config/validate-env';
import { AppConfig } from '../../../config/app-config';
import { InProcessTurnQueue } from './in-process-turn.queue';
import { turnQueueContract } from '../turn-queue.contract';

describe('InProcessTurnQueue', () => {
  turnQueueContract((turns, debounceMs, concurrency) =>
    Promise.resolve(
      new InProcessTurnQueue(
        turns,
        new AppConfig(
          validateEnv({
            REPLY_DEBOUNCE_MS: String(debounceMs),
            TURN_CONCURRENCY: String(concurrency),
          }),
        ),
      ),
    ),
  );
});

import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { EventsModule } from '../events/events.module';
import { TurnsModule } from '../turns/turns.module';
import { DrizzleIngestStore } from './drizzle-ingest.store';
import { IngestService } from './ingest.service';
import { IngestStore } from './ingest.store';
import { ServedNumberFilter } from './served-number.filter';

/** What webhooks carry, stored before they are acknowledged; turns scheduled after. */
@Module({
  imports: [DatabaseModule, EventsModule, TurnsModule],
  providers: [
    { provide: IngestStore, useClass: DrizzleIngestStore },
    IngestService,
    ServedNumberFilter,
  ],
  exports: [IngestService, ServedNumberFilter],
})
export class InboundModule {}

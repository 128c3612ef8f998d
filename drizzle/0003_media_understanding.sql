ALTER TABLE "messages" ADD COLUMN "media_text" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "media_status" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "media_failure" text;
CREATE TABLE `model_advances` (
	`window` integer PRIMARY KEY NOT NULL,
	`batch_id` integer NOT NULL,
	`peer_mode` text NOT NULL,
	`peers` text NOT NULL,
	`skipped` text NOT NULL,
	`applied_uids` text,
	`heldout_bpb_before` real,
	`heldout_bpb_after` real,
	`aggregate_key` text,
	`aggregate_sha256` text,
	`outer_learning_rate` real NOT NULL,
	`created_at_ms` integer NOT NULL,
	`completed_at_ms` integer
);
--> statement-breakpoint
DROP TABLE `aggregates`;--> statement-breakpoint
DROP TABLE `peer_lists`;--> statement-breakpoint
ALTER TABLE `evaluation_batches` ADD `kind` text DEFAULT 'evaluate' NOT NULL;--> statement-breakpoint
ALTER TABLE `checkpoints` ADD `advanced_from` integer;
ALTER TABLE `uid_states` ADD `evidence_sum` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `uid_states` ADD `evidence_weight` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `window_scores` ADD `evidence` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `window_scores` ADD `pay_factor` real DEFAULT 0 NOT NULL;
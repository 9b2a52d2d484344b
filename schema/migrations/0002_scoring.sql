-- The scoring tables of 0000 were never written by any release: they are replaced, not copied.
CREATE TABLE `checkpoint_samples` (
	`window` integer PRIMARY KEY NOT NULL,
	`object_key` text NOT NULL,
	`sample` text NOT NULL,
	`step_ema` text,
	`previous_window` integer,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
DROP TABLE `rating_history`;--> statement-breakpoint
DROP TABLE `ratings`;--> statement-breakpoint
CREATE TABLE `__new_weight_sets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`window` integer NOT NULL,
	`netuid` integer NOT NULL,
	`uids` text NOT NULL,
	`weights` text NOT NULL,
	`values` text NOT NULL,
	`gather` text NOT NULL,
	`reserve` text NOT NULL,
	`version_key` text NOT NULL,
	`status` text NOT NULL,
	`mode` text,
	`commit_hash` text,
	`salt` text,
	`commit_block` integer,
	`tx_hash` text,
	`tx_nonce` integer,
	`tx_submitted_block` integer,
	`tx_valid_until_block` integer,
	`tx_searched_to_block` integer,
	`set_block` integer,
	`set_block_hash` text,
	`attempts` integer NOT NULL,
	`next_attempt_at_ms` integer NOT NULL,
	`last_error_code` text,
	`last_error_message` text,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
DROP TABLE `weight_sets`;--> statement-breakpoint
ALTER TABLE `__new_weight_sets` RENAME TO `weight_sets`;--> statement-breakpoint
CREATE UNIQUE INDEX `weight_sets_window_unique` ON `weight_sets` (`window`);--> statement-breakpoint
CREATE INDEX `weight_sets_status` ON `weight_sets` (`status`);--> statement-breakpoint
CREATE TABLE `__new_uid_states` (
	`uid` integer PRIMARY KEY NOT NULL,
	`hotkey` text NOT NULL,
	`bma` real NOT NULL,
	`steps_behind` real,
	`sync_score` real,
	`final_score` real NOT NULL,
	`mu` real,
	`sigma` real,
	`inactive_since` integer,
	`ban_windows_left` integer NOT NULL,
	`last_submission_window` integer,
	`last_evaluated_window` integer,
	`updated_window` integer NOT NULL
);
--> statement-breakpoint
DROP TABLE `uid_states`;--> statement-breakpoint
ALTER TABLE `__new_uid_states` RENAME TO `uid_states`;--> statement-breakpoint
CREATE TABLE `__new_window_scores` (
	`window` integer NOT NULL,
	`uid` integer NOT NULL,
	`hotkey` text NOT NULL,
	`outcome` text NOT NULL,
	`submission_id` integer,
	`code` text,
	`gradient_score` real,
	`own_improvement` real,
	`random_improvement` real,
	`indicator` integer,
	`bma_before` real NOT NULL,
	`bma` real NOT NULL,
	`steps_behind` real,
	`sync_score` real,
	`mu_before` real,
	`sigma_before` real,
	`mu` real,
	`sigma` real,
	`ordinal` real,
	`matched` integer NOT NULL,
	`final_before` real NOT NULL,
	`final_score` real NOT NULL,
	`penalties` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	PRIMARY KEY(`window`, `uid`)
);
--> statement-breakpoint
DROP TABLE `window_scores`;--> statement-breakpoint
ALTER TABLE `__new_window_scores` RENAME TO `window_scores`;--> statement-breakpoint
CREATE INDEX `window_scores_uid` ON `window_scores` (`uid`,`window`);--> statement-breakpoint
CREATE TABLE `weight_set_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`weight_set_id` integer NOT NULL,
	`at_ms` integer NOT NULL,
	`event` text NOT NULL,
	`tx_hash` text,
	`block` integer,
	`code` text,
	`message` text NOT NULL,
	FOREIGN KEY (`weight_set_id`) REFERENCES `weight_sets`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `weight_set_events_set` ON `weight_set_events` (`weight_set_id`,`id`);

CREATE TABLE `neurons` (
	`uid` integer PRIMARY KEY NOT NULL,
	`hotkey` text NOT NULL,
	`coldkey` text NOT NULL,
	`stake_rao` text NOT NULL,
	`validator_permit` integer NOT NULL,
	`registration_block` integer NOT NULL,
	`last_seen_block` integer NOT NULL,
	`last_seen_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `neurons_hotkey` ON `neurons` (`hotkey`);--> statement-breakpoint
CREATE TABLE `windows` (
	`window` integer PRIMARY KEY NOT NULL,
	`start_block` integer NOT NULL,
	`start_block_hash` text,
	`start_block_at_ms` integer,
	`end_block` integer NOT NULL,
	`end_block_hash` text,
	`end_block_at_ms` integer,
	`put_opens_at_ms` integer,
	`put_closes_at_ms` integer,
	`seed_block` integer,
	`seed_block_hash` text,
	`seed_block_at_ms` integer,
	`state` text DEFAULT 'training' NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `windows_state` ON `windows` (`state`);--> statement-breakpoint
CREATE TABLE `evaluation_batch_items` (
	`batch_id` integer NOT NULL,
	`submission_id` integer NOT NULL,
	PRIMARY KEY(`batch_id`, `submission_id`),
	FOREIGN KEY (`batch_id`) REFERENCES `evaluation_batches`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`submission_id`) REFERENCES `submissions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `evaluation_batch_items_submission` ON `evaluation_batch_items` (`submission_id`);--> statement-breakpoint
CREATE TABLE `evaluation_batches` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`window` integer NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_id` integer,
	`lease_runner_id` text,
	`lease_expires_at_ms` integer,
	`last_error_code` text,
	`last_error_message` text,
	`created_at_ms` integer NOT NULL,
	`completed_at_ms` integer,
	FOREIGN KEY (`lease_runner_id`) REFERENCES `runners`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `evaluation_batches_state` ON `evaluation_batches` (`state`,`lease_expires_at_ms`);--> statement-breakpoint
CREATE INDEX `evaluation_batches_window` ON `evaluation_batches` (`window`);--> statement-breakpoint
CREATE TABLE `evaluation_leases` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`batch_id` integer NOT NULL,
	`runner_id` text NOT NULL,
	`leased_at_ms` integer NOT NULL,
	`expires_at_ms` integer NOT NULL,
	`ended_at_ms` integer,
	`outcome` text DEFAULT 'active' NOT NULL,
	FOREIGN KEY (`batch_id`) REFERENCES `evaluation_batches`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`runner_id`) REFERENCES `runners`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `evaluation_leases_batch` ON `evaluation_leases` (`batch_id`);--> statement-breakpoint
CREATE TABLE `evaluations` (
	`submission_id` integer PRIMARY KEY NOT NULL,
	`window` integer NOT NULL,
	`uid` integer NOT NULL,
	`batch_id` integer NOT NULL,
	`lease_id` integer NOT NULL,
	`runner_id` text NOT NULL,
	`error_code` text,
	`error_message` text,
	`loss_before_own` real,
	`loss_after_own` real,
	`loss_before_random` real,
	`loss_after_random` real,
	`own_seed` text,
	`random_seed` text,
	`own_samples` text,
	`random_samples` text,
	`eval_lr` real,
	`decode_ms` real,
	`apply_ms` real,
	`forward_ms` real,
	`restore_ms` real,
	`total_ms` real,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`submission_id`) REFERENCES `submissions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`batch_id`) REFERENCES `evaluation_batches`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`lease_id`) REFERENCES `evaluation_leases`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`runner_id`) REFERENCES `runners`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `evaluations_window` ON `evaluations` (`window`);--> statement-breakpoint
CREATE INDEX `evaluations_uid` ON `evaluations` (`uid`,`window`);--> statement-breakpoint
CREATE TABLE `runners` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`label` text,
	`device` text,
	`created_at_ms` integer NOT NULL,
	`last_heartbeat_at_ms` integer,
	`disabled` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runners_token_hash_unique` ON `runners` (`token_hash`);--> statement-breakpoint
CREATE TABLE `copy_fingerprints` (
	`submission_id` integer PRIMARY KEY NOT NULL,
	`window` integer NOT NULL,
	`uid` integer NOT NULL,
	`seed_block_hash` text NOT NULL,
	`sample` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`submission_id`) REFERENCES `submissions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `copy_flags` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`window` integer NOT NULL,
	`offender_submission_id` integer NOT NULL,
	`offender_uid` integer NOT NULL,
	`original_submission_id` integer NOT NULL,
	`original_uid` integer NOT NULL,
	`original_window` integer NOT NULL,
	`kind` text NOT NULL,
	`overlap` real NOT NULL,
	`grade` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`offender_submission_id`) REFERENCES `submissions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`original_submission_id`) REFERENCES `submissions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `copy_flags_window` ON `copy_flags` (`window`);--> statement-breakpoint
CREATE UNIQUE INDEX `copy_flags_pair` ON `copy_flags` (`offender_submission_id`,`original_submission_id`);--> statement-breakpoint
CREATE TABLE `multipart_uploads` (
	`upload_id` text PRIMARY KEY NOT NULL,
	`window` integer NOT NULL,
	`uid` integer NOT NULL,
	`hotkey` text NOT NULL,
	`object_key` text NOT NULL,
	`sha256` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`signature` text NOT NULL,
	`state` text DEFAULT 'open' NOT NULL,
	`parts` text DEFAULT '{}' NOT NULL,
	`created_at_ms` integer NOT NULL,
	`completed_at_ms` integer,
	`aborted_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `multipart_uploads_window_uid` ON `multipart_uploads` (`window`,`uid`);--> statement-breakpoint
CREATE TABLE `submissions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`window` integer NOT NULL,
	`uid` integer NOT NULL,
	`hotkey` text NOT NULL,
	`object_key` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`sha256` text NOT NULL,
	`tensor_digest` text,
	`received_at_ms` integer NOT NULL,
	`multipart_created_at_ms` integer,
	`signature` text NOT NULL,
	`status` text DEFAULT 'received' NOT NULL,
	`error_code` text,
	`error_message` text,
	`base_window` integer,
	`sample_digest` text,
	`param_sample` text,
	`tensor_ranges` text,
	`validated_at_ms` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `submissions_window_uid` ON `submissions` (`window`,`uid`);--> statement-breakpoint
CREATE UNIQUE INDEX `submissions_signature` ON `submissions` (`signature`);--> statement-breakpoint
CREATE INDEX `submissions_window_status` ON `submissions` (`window`,`status`);--> statement-breakpoint
CREATE INDEX `submissions_tensor_digest` ON `submissions` (`tensor_digest`);--> statement-breakpoint
CREATE INDEX `submissions_uid_window` ON `submissions` (`uid`,`window`);--> statement-breakpoint
CREATE TABLE `upload_refusals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`window` integer NOT NULL,
	`uid` integer NOT NULL,
	`hotkey` text,
	`code` text NOT NULL,
	`message` text NOT NULL,
	`received_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `upload_refusals_window` ON `upload_refusals` (`window`,`code`);--> statement-breakpoint
CREATE INDEX `upload_refusals_uid` ON `upload_refusals` (`uid`,`window`);--> statement-breakpoint
CREATE TABLE `aggregates` (
	`window` integer PRIMARY KEY NOT NULL,
	`object_key` text NOT NULL,
	`sha256` text NOT NULL,
	`uids` text NOT NULL,
	`skipped_uids` text NOT NULL,
	`outer_learning_rate` real NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `checkpoints` (
	`window` integer PRIMARY KEY NOT NULL,
	`object_key` text NOT NULL,
	`sha256` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`global_step` integer NOT NULL,
	`held_out_bpb` real,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `peer_lists` (
	`first_effective_window` integer PRIMARY KEY NOT NULL,
	`created_window` integer NOT NULL,
	`peers` text NOT NULL,
	`reserve_peers` text NOT NULL,
	`initial_selection` integer NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rating_history` (
	`window` integer NOT NULL,
	`uid` integer NOT NULL,
	`mu_before` real,
	`sigma_before` real,
	`mu` real,
	`sigma` real,
	`cause` text NOT NULL,
	PRIMARY KEY(`window`, `uid`, `cause`)
);
--> statement-breakpoint
CREATE TABLE `ratings` (
	`uid` integer PRIMARY KEY NOT NULL,
	`mu` real NOT NULL,
	`sigma` real NOT NULL,
	`updated_window` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `uid_states` (
	`uid` integer PRIMARY KEY NOT NULL,
	`hotkey` text NOT NULL,
	`bma` real DEFAULT 0 NOT NULL,
	`sync_score` real DEFAULT 1 NOT NULL,
	`final_score` real DEFAULT 0 NOT NULL,
	`inactive_since` integer,
	`ban_windows_left` integer DEFAULT 0 NOT NULL,
	`last_submission_window` integer,
	`last_evaluated_window` integer,
	`updated_window` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `weight_sets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`window` integer NOT NULL,
	`uids` text NOT NULL,
	`weights` text NOT NULL,
	`weights_u16` text,
	`version_key` integer NOT NULL,
	`mode` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`commit_hash` text,
	`salt` text,
	`nonce` integer,
	`tx_hash` text,
	`block_hash` text,
	`block_number` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `weight_sets_status` ON `weight_sets` (`status`);--> statement-breakpoint
CREATE INDEX `weight_sets_window` ON `weight_sets` (`window`);--> statement-breakpoint
CREATE TABLE `window_scores` (
	`window` integer NOT NULL,
	`uid` integer NOT NULL,
	`gradient_score` real,
	`own_improvement` real,
	`random_improvement` real,
	`indicator` integer,
	`bma` real NOT NULL,
	`steps_behind` real,
	`sync_score` real NOT NULL,
	`penalties` text DEFAULT '[]' NOT NULL,
	`ordinal` real,
	`final_score` real NOT NULL,
	`created_at_ms` integer NOT NULL,
	PRIMARY KEY(`window`, `uid`)
);
--> statement-breakpoint
CREATE INDEX `window_scores_uid` ON `window_scores` (`uid`,`window`);
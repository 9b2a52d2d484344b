CREATE TABLE `chain_head` (
	`id` integer PRIMARY KEY NOT NULL,
	`block` integer NOT NULL,
	`hash` text NOT NULL,
	`timestamp_ms` integer NOT NULL,
	`seen_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `refresh_throttle` (
	`name` text PRIMARY KEY NOT NULL,
	`last_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `multipart_parts` (
	`upload_id` text NOT NULL,
	`part_number` integer NOT NULL,
	`etag` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`received_at_ms` integer NOT NULL,
	PRIMARY KEY(`upload_id`, `part_number`),
	FOREIGN KEY (`upload_id`) REFERENCES `multipart_uploads`(`upload_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `multipart_uploads_signature` ON `multipart_uploads` (`signature`);--> statement-breakpoint
ALTER TABLE `multipart_uploads` DROP COLUMN `parts`;
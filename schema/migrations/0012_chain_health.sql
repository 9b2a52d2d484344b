CREATE TABLE `chain_health` (
	`id` integer PRIMARY KEY NOT NULL,
	`stale` integer DEFAULT 0 NOT NULL,
	`changed_at_ms` integer,
	`last_error` text,
	`last_error_at_ms` integer
);

CREATE TABLE `admin_actions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`action` text NOT NULL,
	`window` integer,
	`reason` text,
	`details` text,
	`at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `admin_actions_action` ON `admin_actions` (`action`,`id`);--> statement-breakpoint
CREATE TABLE `archived_evaluations` (
	`admin_action_id` integer NOT NULL,
	`submission_id` integer NOT NULL,
	`window` integer NOT NULL,
	`uid` integer NOT NULL,
	`row` text NOT NULL,
	PRIMARY KEY(`admin_action_id`, `submission_id`),
	FOREIGN KEY (`admin_action_id`) REFERENCES `admin_actions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `archived_evaluations_window` ON `archived_evaluations` (`window`);
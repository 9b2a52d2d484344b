CREATE TABLE `upload_refusal_counts` (
	`window` integer NOT NULL,
	`code` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`window`, `code`)
);

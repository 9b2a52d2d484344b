CREATE TABLE `window_transitions` (
	`window` integer NOT NULL,
	`seq` integer NOT NULL,
	`transition` text NOT NULL,
	`from_state` text NOT NULL,
	`to_state` text NOT NULL,
	`at_ms` integer NOT NULL,
	PRIMARY KEY(`window`, `seq`),
	FOREIGN KEY (`window`) REFERENCES `windows`(`window`) ON UPDATE no action ON DELETE no action
);

ALTER TABLE `weight_sets` ADD `reveal_round` integer;--> statement-breakpoint
ALTER TABLE `weight_sets` ADD `reveal_epoch_start_block` integer;--> statement-breakpoint
ALTER TABLE `weight_sets` ADD `commit_epoch` integer;--> statement-breakpoint
ALTER TABLE `weight_sets` ADD `commit_digest` text;--> statement-breakpoint
ALTER TABLE `weight_sets` ADD `reveal_searched_to_block` integer;--> statement-breakpoint
-- Hash commit-reveal was called commit_reveal before the timelocked mode came.
UPDATE `weight_sets` SET `mode` = 'hash-commit-reveal' WHERE `mode` = 'commit_reveal';

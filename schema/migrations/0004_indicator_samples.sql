ALTER TABLE `evaluations` ADD `sample_losses` text;--> statement-breakpoint
ALTER TABLE `window_scores` ADD `indicator_t` real;
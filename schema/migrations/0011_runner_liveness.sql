ALTER TABLE `evaluation_leases` ADD `last_heartbeat_at_ms` integer;--> statement-breakpoint
ALTER TABLE `runners` ADD `last_seen_at_ms` integer;
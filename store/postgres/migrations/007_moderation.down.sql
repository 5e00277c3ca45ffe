DROP TABLE IF EXISTS moderation_events;

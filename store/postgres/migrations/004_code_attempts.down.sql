ALTER TABLE verification_codes DROP COLUMN IF EXISTS requester_attempts;

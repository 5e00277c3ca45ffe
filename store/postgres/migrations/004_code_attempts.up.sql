-- Wrong attempts at a verification code per requester (the client's
-- address), so that one address's wrong guesses lock only that address out
-- of the code: {"<requester>": <wrong attempts>}. attempts keeps counting
-- the wrong attempts of every requester together, for the code's ceiling.
ALTER TABLE verification_codes ADD COLUMN requester_attempts jsonb NOT NULL DEFAULT '{}'::jsonb;

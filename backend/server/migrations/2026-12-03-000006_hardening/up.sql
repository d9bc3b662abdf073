-- Sign-in attempts per account and per address, shared by every duban
-- instance: an attempt is counted here, atomically, before its password is
-- checked, so parallel guesses cannot outrun the limit; an account locked
-- after too many failures stays locked until locked_until.
CREATE TABLE sign_in_throttle (
    key            text PRIMARY KEY,
    attempts       integer NOT NULL CHECK (attempts >= 0),
    window_started timestamptz NOT NULL,
    locked_until   timestamptz
);

-- A stored object found not to match its hash (on download or by
-- `duban evidence verify`): refused until the same content is uploaded again.
ALTER TABLE blobs ADD COLUMN corrupted_at timestamptz;

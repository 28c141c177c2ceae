-- Signing out everywhere (or a password change) moves the user to the next
-- session generation; an access token carries the generation it was issued
-- in and is refused once the user's generation has moved past it.
ALTER TABLE users ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0
    CHECK (session_generation >= 0);

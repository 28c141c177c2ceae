ALTER TABLE auctions DROP COLUMN session_minutes;

-- 0015: what a card copy was sent as. A notice (approved, rejected, sent
-- back, ...) is a request card under a headline that says what happened;
-- when the request's cards are updated later, each copy is shown again
-- with its own headline, which needs the notice's kind and data (who
-- decided, the comment). '' for copies recorded before and for copies
-- that are plain request or task cards.

ALTER TABLE message_refs ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE message_refs ADD COLUMN data TEXT NOT NULL DEFAULT '';

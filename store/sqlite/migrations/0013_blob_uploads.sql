-- 0013: attachments kept but not yet known to belong to a request. A key
-- is recorded before the file is written; the orphan cleaner (package
-- blobs) deletes files older than the retention that no request names,
-- and forgets the keys of those a request names.

CREATE TABLE blob_uploads (
	blob_key   TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL
);
CREATE INDEX blob_uploads_created ON blob_uploads (created_at);

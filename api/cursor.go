package api

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// A cursor is where the previous page ended in the newest-first order of
// requests: the last request's creation time and id, opaque to callers.

func encodeCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1." + strconv.FormatInt(at.UnixMilli(), 10) + "." + strconv.FormatInt(id, 10)))
}

// decodeCursor parses a cursor made by encodeCursor.
func decodeCursor(s string) (time.Time, int64, error) {
	if len(s) > 64 {
		return time.Time{}, 0, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, errBadCursor
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return time.Time{}, 0, errBadCursor
	}
	ms, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 || ms < 0 || ms > 1<<50 {
		return time.Time{}, 0, errBadCursor
	}
	return time.UnixMilli(ms).UTC(), id, nil
}

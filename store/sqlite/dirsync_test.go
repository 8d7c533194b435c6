package sqlite_test

import (
	"testing"

	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
)

func TestDirSyncStore(t *testing.T) {
	t.Parallel()
	dirsynctest.RunStore(t, func(t *testing.T) dirsynctest.Store { db, _ := MustOpen(t); return db })
}

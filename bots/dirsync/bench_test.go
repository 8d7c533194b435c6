package dirsync_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/store/sqlite"
)

// BenchmarkApplyEvent: one change event (a rename) applied to a synced
// directory of n people in n/20 departments on SQLite: the whole merge,
// the directory write and the saved listing, as an adapter's event
// handler pays it within the platform's deadline.
func BenchmarkApplyEvent(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "flowbot.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var people []dirsync.Person
			var depts []dirsync.Dept
			for d := range n / 20 {
				depts = append(depts, dirsync.Dept{ID: "d" + strconv.Itoa(d), Name: "Dept " + strconv.Itoa(d), Head: "u" + strconv.Itoa(d*20)})
			}
			for i := range n {
				people = append(people, dirsync.Person{ID: "u" + strconv.Itoa(i), Name: "User " + strconv.Itoa(i),
					Email: fmt.Sprintf("u%d@corp.example", i), Depts: []string{"d" + strconv.Itoa(i/20)}, Manager: "u" + strconv.Itoa(i/20*20), Active: true})
			}
			src := dirsynctest.NewMemory("feishu")
			src.PageSize = 500
			src.SetDirectory(people, depts)
			s := dirsync.New(dirsync.Config{Store: db, Sources: []dirsync.Source{src}, Rate: 1e6, Logger: slog.New(slog.DiscardHandler)})
			if _, err := s.Run(ctx); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				p := people[7]
				p.Name = "Renamed " + strconv.Itoa(i)
				if _, err := s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonChanged, Person: p}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

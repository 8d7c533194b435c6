package flows

import (
	"testing"
	"time"
)

// FuzzPeriod: any two day strings give a clear error or a non-empty
// period [start, end) that starts on the day asked; never a panic.
func FuzzPeriod(f *testing.F) {
	for _, s := range [][2]string{{"2026-12-01", "2026-12-10"}, {"", "2026-12-10"}, {"2026-12-05", "2026-12-01"}, {"12/01", ""}, {"2026-02-30", "2026-03-01"}, {" 2026-12-01 ", "2026-12-01"}} {
		f.Add(s[0], s[1])
	}
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	loc := New(Config{}).userLoc(nil)
	f.Fuzz(func(t *testing.T, from, to string) {
		s, e, err := period(from, to, loc, now)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("period(%q, %q): error %v is not CodeInvalid", from, to, err)
			}
			return
		}
		if !s.Before(e) || !now.Before(e) {
			t.Fatalf("period(%q, %q) = [%v, %v): empty or past", from, to, s, e)
		}
		if s.In(loc).Hour() != 0 || e.In(loc).Hour() != 0 {
			t.Fatalf("period(%q, %q) = [%v, %v): not whole days", from, to, s, e)
		}
	})
}

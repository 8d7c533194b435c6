package schedule_test

import (
	"testing"

	"github.com/flowbot/flowbot/bots/schedule"
)

// FuzzSpecs feeds arbitrary cron specs and default time zones: New must
// never panic, and a scheduler it accepts must run without panicking.
func FuzzSpecs(f *testing.F) {
	for _, s := range []string{"0 9 * * *", "*/30 * * * * *", "@daily", "CRON_TZ=Asia/Tokyo 0 9 * * *", "61 * * * *", "", "0 9 31 2 *"} {
		f.Add(s, "Europe/London")
	}
	b := setup(f)
	b.seedHistory(f)
	f.Fuzz(func(t *testing.T, spec, tz string) {
		s := b.scheduler(schedule.Config{DigestSpec: spec, ReportSpec: spec, TickSpec: spec, DefaultTZ: tz})
		_ = s.RunDue(b.ctx, now)
	})
}

package workcal_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/workcal"
)

const cal2026 = `timezone: Asia/Shanghai
hours: "09:00-18:00"
weekend: [sat, sun]
holidays:
  - 2026-10-01..2026-10-07
  - 2026-12-25
workdays:
  - 2026-10-10
`

func mustCal(t *testing.T) (*workcal.Calendar, *time.Location) {
	t.Helper()
	c, err := workcal.Parse([]byte(cal2026))
	require.NoError(t, err)
	return c, c.Location
}

func TestAdd(t *testing.T) {
	t.Parallel()
	c, sh := mustCal(t)
	at := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, sh) }
	tests := []struct {
		name  string
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"within the day", at(2026, 11, 26, 10, 0), 2 * time.Hour, at(2026, 11, 26, 12, 0)},
		{"friday 17:00 + 2h = monday 10:00", at(2026, 11, 27, 17, 0), 2 * time.Hour, at(2026, 11, 30, 10, 0)},
		{"up to closing time", at(2026, 11, 27, 17, 0), time.Hour, at(2026, 11, 27, 18, 0)},
		{"before opening starts at 09:00", at(2026, 11, 26, 7, 30), 30 * time.Minute, at(2026, 11, 26, 9, 30)},
		{"after closing starts next day", at(2026, 11, 26, 20, 0), time.Hour, at(2026, 11, 27, 10, 0)},
		{"saturday starts monday", at(2026, 11, 28, 11, 0), time.Hour, at(2026, 11, 30, 10, 0)},
		{"one day = next working day same time", at(2026, 11, 27, 15, 0), 24 * time.Hour, at(2026, 11, 30, 15, 0)},
		{"1d 2h", at(2026, 11, 26, 17, 0), 26 * time.Hour, at(2026, 11, 30, 10, 0)},
		{"holiday skipped", at(2026, 12, 24, 17, 0), 2 * time.Hour, at(2026, 12, 28, 10, 0)},
		{"national day and make-up saturday", at(2026, 9, 30, 17, 0), 2 * time.Hour, at(2026, 10, 8, 10, 0)},
		{"make-up saturday counts", at(2026, 10, 9, 17, 0), 2 * time.Hour, at(2026, 10, 10, 10, 0)},
		{"zero", at(2026, 11, 28, 11, 0), 0, at(2026, 11, 28, 11, 0)},
		{"utc input", time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), 2 * time.Hour, at(2026, 11, 30, 10, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := c.Add(tc.start, tc.d)
			require.True(t, tc.want.Equal(got), "got %v, want %v", got, tc.want)
		})
	}
}

func TestIsWorkday(t *testing.T) {
	t.Parallel()
	c, sh := mustCal(t)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, sh) }
	require.True(t, c.IsWorkday(day(11, 26)))
	require.False(t, c.IsWorkday(day(11, 28)), "saturday")
	require.False(t, c.IsWorkday(day(10, 5)), "national day")
	require.True(t, c.IsWorkday(day(10, 10)), "make-up saturday")
	require.False(t, c.IsWorkday(day(12, 25)))
}

func TestDefault(t *testing.T) {
	t.Parallel()
	c := workcal.Default()
	fri := time.Date(2026, 11, 27, 17, 0, 0, 0, c.Location)
	require.True(t, time.Date(2026, 11, 30, 10, 0, 0, 0, c.Location).Equal(c.Add(fri, 2*time.Hour)))
}

func TestNoWorkingDayFallsBack(t *testing.T) {
	t.Parallel()
	c := workcal.Default()
	for d := time.Sunday; d <= time.Saturday; d++ {
		c.Weekend[d] = true
	}
	start := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	require.Equal(t, start.Add(time.Hour), c.Add(start, time.Hour))
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, msg string
	}{
		{"bad timezone", "timezone: Mars/Base", `unknown timezone "Mars/Base"`},
		{"bad hours", `hours: "9-18"`, `bad hours "9-18"`},
		{"reversed hours", `hours: "18:00-09:00"`, "bad hours"},
		{"bad weekday", "weekend: [saturday, funday]", `line 1: unknown weekday "funday"`},
		{"bad holiday", "holidays:\n  - 2026-02-30", `line 2: bad holiday "2026-02-30"`},
		{"reversed range", "holidays: [2026-10-07..2026-10-01]", "end is before the start"},
		{"bad workday", "workdays: [soon]", `bad workday "soon"`},
		{"both", "holidays: [2026-10-10]\nworkdays: [2026-10-10]", "2026-10-10 is both a holiday and a workday"},
		{"unknown key", "holiday: [2026-10-10]", "field holiday not found"},
		{"not yaml", "hours: [", "parse calendar"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := workcal.Parse([]byte(tc.src))
			require.Nil(t, c)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestParseAllMistakes(t *testing.T) {
	t.Parallel()
	_, err := workcal.Parse([]byte("timezone: X/Y\nweekend: [sat, xx]\nholidays: [bad]\n"))
	require.Error(t, err)
	require.Len(t, strings.Split(err.Error(), "\n"), 3, "one line per mistake: %v", err)
}

func TestParseExampleFile(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../examples/calendar.yaml")
	require.NoError(t, err)
	c, err := workcal.Parse(src)
	require.NoError(t, err)
	require.False(t, c.IsWorkday(time.Date(2026, 10, 1, 12, 0, 0, 0, c.Location)), "national day")
	require.True(t, c.IsWorkday(time.Date(2026, 10, 10, 12, 0, 0, 0, c.Location)), "make-up saturday")
}

func TestParseEmptyKeepsDefaults(t *testing.T) {
	t.Parallel()
	c, err := workcal.Parse([]byte("{}"))
	require.NoError(t, err)
	require.Equal(t, 9*60, c.StartMin)
	require.True(t, c.Weekend[time.Sunday])
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(cal2026))
	f.Add([]byte("holidays: [2026-01-01..2026-12-31]"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := workcal.Parse(src)
		if err != nil {
			require.Nil(t, c)
			return
		}
		start := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
		got := c.Add(start, 30*time.Hour)
		require.False(t, got.Before(start.Add(time.Nanosecond)), "time moves forward")
	})
}

func TestIsWorkDate(t *testing.T) {
	t.Parallel()
	c, _ := mustCal(t)
	tests := []struct {
		date string
		want bool
	}{
		{"2026-11-27", true},  // Friday
		{"2026-11-28", false}, // Saturday
		{"2026-10-01", false}, // national day
		{"2026-10-10", true},  // make-up Saturday
		{"2026-12-25", false}, // holiday
		{"2026-13-01", false}, // not a date
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.date, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, c.IsWorkDate(tc.date))
		})
	}
	// The date is a date of the calendar's zone, whatever that zone is.
	far, err := workcal.Parse([]byte("timezone: Pacific/Kiritimati\n"))
	require.NoError(t, err)
	require.True(t, far.IsWorkDate("2026-11-27"), "Friday in UTC+14")
	require.False(t, far.IsWorkDate("2026-11-28"), "Saturday in UTC+14")
}

package chaos

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestParseStatCPU reads utime+stime from /proc/PID/stat lines, a command
// with spaces and parentheses included, and refuses malformed ones with
// an error instead of a figure.
func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		err        bool
	}{
		{"plain", "1234 (flowbot) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 12 0 100 0 0", 3800 * time.Millisecond, false},
		{"command with spaces and parens", "99 (a b) (c)) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 0 0", 100 * time.Millisecond, false},
		{"no command", "1234 flowbot S 1", 0, true},
		{"too few fields", "1 (x) S 1 2 3", 0, true},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 ab 3 0", 0, true},
		{"negative", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 3 0", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU(tc.stat)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestCPUAccounting burns 200 ms of CPU in this process (as getrusage
// counts it) and checks that /proc/PID/stat, the server side's source,
// counts the same for this process within its 10 ms ticks and the reads'
// skew; an incarnation that changed makes the server's figure unknown
// rather than wrong.
func TestCPUAccounting(t *testing.T) {
	pid := os.Getpid()
	a0, err := procCPU(pid)
	require.NoError(t, err)
	s0 := selfCPU()
	deadline := time.Now().Add(time.Minute)
	x := 0
	for selfCPU()-s0 < 200*time.Millisecond && time.Now().Before(deadline) {
		for i := range 100000 {
			x += i
		}
	}
	_ = x
	a1, err := procCPU(pid)
	require.NoError(t, err)
	self := selfCPU() - s0
	proc := a1 - a0
	require.GreaterOrEqual(t, self, 200*time.Millisecond, "getrusage saw the burn")
	require.Less(t, self, 30*time.Second, "getrusage is plausible")
	require.Greater(t, proc, 50*time.Millisecond, "/proc saw the burn")
	require.InDelta(t, float64(self), float64(proc), float64(100*time.Millisecond), "both accounts agree")

	c := cpuBetween(cpuSample{self: 1, server: 10, pids: []int{7}, ok: true}, cpuSample{self: 5, server: 30, pids: []int{7}, ok: true})
	require.Equal(t, CPU{Server: 20, Load: 4, ServerKnown: true}, c)
	c = cpuBetween(cpuSample{self: 1, server: 10, pids: []int{7}, ok: true}, cpuSample{self: 5, server: 3, pids: []int{8}, ok: true})
	require.False(t, c.ServerKnown, "a restarted server's CPU is not known")
	require.Zero(t, c.Server)
}

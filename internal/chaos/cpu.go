package chaos

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU is the processor time each side used while the load ran: the
// `flowbot serve` processes (user+system from /proc/PID/stat) and the
// load generator itself (getrusage of this process: the driver, the
// Feishu fake and its front, the web streams).
type CPU struct {
	Server, Load time.Duration
	// ServerKnown is false when an incarnation of the server changed
	// during the load (a kill): its CPU is then not accounted.
	ServerKnown bool
}

// userHZ is the unit of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const userHZ = 100

// procCPU returns the user+system time of process pid so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("chaos: cpu of process %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a
// /proc/PID/stat line; the command (field 2, in parentheses) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("chaos: /proc stat without a command: %.40q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("chaos: /proc stat with %d fields after the command, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("chaos: /proc stat time %q: not a tick count", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// selfCPU returns this process's user+system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuSample is both sides' CPU at one moment.
type cpuSample struct {
	self   time.Duration
	server time.Duration
	pids   []int
	ok     bool
}

func sampleCPU(procs []*Process) cpuSample {
	s := cpuSample{self: selfCPU(), ok: true}
	for _, p := range procs {
		pid := p.Pid()
		if pid == 0 {
			s.ok = false
			continue
		}
		c, err := procCPU(pid)
		if err != nil {
			s.ok = false
			continue
		}
		s.server += c
		s.pids = append(s.pids, pid)
	}
	return s
}

// cpuBetween is the CPU used from a to b.
func cpuBetween(a, b cpuSample) CPU {
	c := CPU{Load: b.self - a.self, ServerKnown: a.ok && b.ok && len(a.pids) == len(b.pids)}
	for i := range a.pids {
		if c.ServerKnown && a.pids[i] != b.pids[i] {
			c.ServerKnown = false
		}
	}
	if c.ServerKnown {
		c.Server = b.server - a.server
	}
	return c
}

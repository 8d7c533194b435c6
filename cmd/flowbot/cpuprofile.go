package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"time"
)

// startCPUProfile writes a CPU profile of `flowbot serve` to the file
// FLOWBOT_CPUPROFILE names (none: no profile), for FLOWBOT_CPUPROFILE_FOR
// (a duration, default 30s) or until the returned stop is called,
// whichever is first. It is how the load generator's runs are profiled
// (`go tool pprof -top FILE`).
func startCPUProfile() (stop func(), err error) {
	path := os.Getenv("FLOWBOT_CPUPROFILE")
	if path == "" {
		return func() {}, nil
	}
	d := 30 * time.Second
	if s := os.Getenv("FLOWBOT_CPUPROFILE_FOR"); s != "" {
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			return nil, fmt.Errorf("FLOWBOT_CPUPROFILE_FOR=%q: a positive duration, like 30s", s)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}
	time.AfterFunc(d, stop)
	return stop, nil
}

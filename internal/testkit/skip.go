package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SkipLog is the file every skipped suite is recorded in, one line each,
// so that a run of `go test ./...` (whose passing packages print nothing
// but "ok") can still say at its end what did not run. .ci/run empties it
// before the tests and prints it after them. FLOWBOT_SKIP_LOG overrides
// the path.
func SkipLog() string {
	if p := os.Getenv("FLOWBOT_SKIP_LOG"); p != "" {
		return p
	}
	return filepath.Join(os.TempDir(), "flowbot-skipped-suites.log")
}

// Unavailable is what a test does when something it needs (a server, a
// browser) is missing: under CI=true it fails; elsewhere it skips loudly,
// records the suite in SkipLog and, when the run has a terminal, says so
// there too, since go test hides the output of a package that passes.
func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s (CI=true: a missing dependency is a failure)", msg)
	}
	msg = strings.ReplaceAll(msg, "\n", " ")
	recordSkip(SkipLog(), fmt.Sprintf("%s\t%s\t%s", packageDir(), tb.Name(), msg))
	line := fmt.Sprintf("SKIPPED %s %s: %s", packageDir(), tb.Name(), msg)
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprintf(tty, "!!! %s\n", line)
		tty.Close()
	}
	tb.Skipf("!!! %s (set CI=true to make this a failure) !!!", msg)
}

// packageDir is the tested package's directory relative to the module
// root (go test runs a package's tests in its directory).
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if rel, err := filepath.Rel(dir, wd); err == nil {
				return filepath.ToSlash(rel)
			}
			return wd
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}

// recordSkip appends line to the log. Lines are short and written with one
// O_APPEND write, so packages tested in parallel do not interleave them.
// A log that cannot be written is not the test's failure.
func recordSkip(path, line string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	if len(line) > 400 {
		line = line[:400]
	}
	_, _ = f.WriteString(line + "\n")
}

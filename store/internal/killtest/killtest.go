// Package killtest owns the stores' kill -9 test of group commit: a child
// process writes with 16 concurrent callers and prints each write it was
// told had committed; the parent kills it with SIGKILL mid-load, reopens
// the store and checks that every acknowledged write is stored whole and
// no failed one left anything. Each store supplies its write and its
// check of one write (they know their tables); the harness is here once.
package killtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// ChildTest is the name of the test function a store's test package
// declares to run Child in the child process.
const ChildTest = "TestKillChild"

// Write makes one operation named name, failing on purpose when fail.
// An error wrapping Refused is a refusal the writer expected (the
// operation is tried again with the next name); any other ends the child.
type Write func(ctx context.Context, name string, fail bool) error

// Child is the child process's body: 16 goroutines write until killed,
// printing "ack NAME" after each write that returned nil (flushed before
// the next write) and, when stats is set, "stats BATCHES OPS" every 200
// acknowledgements.
func Child(write Write, refused error, stats func() (batches, ops int64)) {
	round := os.Getenv(roundEnv)
	var mu sync.Mutex
	acks := 0
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				n := fmt.Sprintf("K%s-%02d-%06d", round, g, i)
				if err := write(context.Background(), n, i%10 == 9); err != nil {
					if refused != nil && errors.Is(err, refused) {
						continue
					}
					fmt.Println("write:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %s\n", n)
				if acks++; stats != nil && acks%200 == 0 {
					batches, ops := stats()
					fmt.Fprintf(out, "stats %d %d\n", batches, ops)
				}
				_ = out.Flush() // the ack leaves the process before the next write
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// roundEnv tells the child its round: its names are unique across the
// rounds of one store.
const roundEnv = "FLOWBOT_KILL_ROUND"

// Failed reports whether name was written by an operation the child made
// fail (its counter ends in 9).
func Failed(name string) bool {
	var round, g, i int
	if _, err := fmt.Sscanf(name, "K%d-%d-%d", &round, &g, &i); err != nil {
		return false
	}
	return i%10 == 9
}

// Kill starts the child (this test binary running ChildTest with env set
// to spec), lets it write until after acknowledgements (or 30 s), kills it
// with SIGKILL and returns what it acknowledged (those already in the
// pipe included) and its last statistics.
func Kill(t *testing.T, env, spec string, round, after int) (acked []string, batches, ops int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+ChildTest+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+spec, fmt.Sprintf("%s=%d", roundEnv, round))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(30 * time.Second)
	for sc.Scan() {
		line := sc.Text()
		if _, err := fmt.Sscanf(line, "stats %d %d", &batches, &ops); err == nil {
			continue
		}
		n, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			if strings.HasPrefix(line, "=== RUN") || strings.HasPrefix(line, "---") || strings.Contains(line, "applied migration") {
				continue
			}
			_ = cmd.Process.Kill()
			t.Fatalf("child said %q", line)
		}
		acked = append(acked, n)
		if len(acked) == after || time.Now().After(deadline) {
			require.NoError(t, cmd.Process.Kill()) // SIGKILL mid-load
			break
		}
	}
	// Acks already written to the pipe before the kill count too.
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acked = append(acked, n)
		}
	}
	_ = cmd.Wait()
	require.NotEmpty(t, acked, "round %d: no write acknowledged", round)
	return acked, batches, ops
}

// Check checks the reopened store: every acknowledged write is whole
// (whole checks one), no stored request is a failed operation's, and each
// has exactly its one task. It returns the number of stored requests.
func Check(t *testing.T, db flows.Store, acked []string, whole func(t *testing.T, name string)) int {
	t.Helper()
	for _, n := range acked {
		whole(t, n)
	}
	ins, err := db.Instances(t.Context(), flows.InstanceFilter{Limit: 1_000_000})
	require.NoError(t, err)
	for _, in := range ins {
		assert.False(t, Failed(in.Number), "failed operation %s stored", in.Number)
	}
	var tasks int
	require.NoError(t, db.View(t.Context(), func(tx flows.Tx) error {
		for _, in := range ins {
			ts, err := tx.TasksOf(in.ID)
			if err != nil {
				return err
			}
			tasks += len(ts)
		}
		return nil
	}))
	assert.Equal(t, len(ins), tasks, "each stored request has exactly its one task")
	return len(ins)
}

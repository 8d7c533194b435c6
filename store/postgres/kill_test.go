package postgres_test

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
	"github.com/flowbot/flowbot/store/postgres"
)

const killChildEnv = "FLOWBOT_POSTGRES_KILL_CHILD"

// TestKillChild is the child of TestGroupCommitKill9: it writes with 16
// goroutines until killed, printing "ack <number>" after each Update
// returned nil. It does nothing in a normal test run.
func TestKillChild(t *testing.T) {
	spec := os.Getenv(killChildEnv)
	if spec == "" {
		t.Skip("child process of TestGroupCommitKill9")
	}
	schema, round, _ := strings.Cut(spec, "|")
	db, err := postgres.OpenConfig(context.Background(), poolConfig(t, schema), nil)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				n := fmt.Sprintf("K%s-%02d-%06d", round, g, i)
				if err := writeOp(context.Background(), db, n, i%10 == 9); err != nil {
					if errors.Is(err, errRefused) {
						continue
					}
					fmt.Println("write:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %s\n", n)
				_ = out.Flush() // the ack leaves the process before the next write
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestGroupCommitKill9 runs a child process writing with 16 concurrent
// callers through the writer lanes (deferred inserts and updates
// included), kills it with SIGKILL mid-load (twice on the same schema),
// and checks that every operation the child was told had committed is
// stored whole, and that no failed operation left anything.
func TestGroupCommitKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	schema := newSchema(t)
	total := 0
	for round := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d", killChildEnv, schema, round))
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		var acked []string
		sc := bufio.NewScanner(stdout)
		deadline := time.Now().Add(30 * time.Second)
		for sc.Scan() {
			line := sc.Text()
			n, ok := strings.CutPrefix(line, "ack ")
			if !ok {
				if strings.HasPrefix(line, "=== RUN") || strings.HasPrefix(line, "---") || strings.Contains(line, "applied migration") {
					continue
				}
				_ = cmd.Process.Kill()
				t.Fatalf("child said %q", line)
			}
			acked = append(acked, n)
			if len(acked) == 400+round*300 || time.Now().After(deadline) {
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

		db := openIn(t, schema)
		for _, n := range acked {
			checkWhole(t, db, n, true)
		}
		ins, err := db.Instances(t.Context(), flows.InstanceFilter{Limit: 1_000_000})
		require.NoError(t, err)
		var tasks int
		require.NoError(t, db.View(t.Context(), func(tx flows.Tx) error {
			for _, in := range ins {
				var round, g, i int
				if _, err := fmt.Sscanf(in.Number, "K%d-%d-%d", &round, &g, &i); err == nil {
					assert.NotEqual(t, 9, i%10, "failed operation %s stored", in.Number)
				}
				ts, err := tx.TasksOf(in.ID)
				if err != nil {
					return err
				}
				tasks += len(ts)
			}
			return nil
		}))
		assert.Equal(t, len(ins), tasks, "each stored request has exactly its one task")
		total += len(acked)
		t.Logf("round %d: %d acknowledged writes all stored; %d requests in the schema", round, len(acked), len(ins))
	}
	require.Greater(t, total, 500)
}

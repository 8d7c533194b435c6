package chaos_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/internal/chaos"
)

var (
	long    = flag.Bool("chaos.long", false, "run the long chaos run (20,000 events, 12 kills) instead of the short one")
	servers = flag.Bool("chaos.servers", false, "also run two replicas on a private PostgreSQL and Redis, killing and restarting the servers under load (CHAOS_SERVERS=1 does the same)")
)

// TestChaos builds flowbot, runs it on SQLite with the Feishu fake, drives
// load with duplicates and double clicks, kills it with SIGKILL and
// SIGTERM at random moments, freezes it once past the click deadline,
// restarts it, and checks that nothing acknowledged was lost, doubled or
// left stuck.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos: whole-process run skipped in -short")
	}
	t.Parallel()
	dir, bin := buildFlowbot(t)

	cfg := chaos.Config{Bin: bin, Dir: dir, Events: 600, Kills: 3, Freeze: 4 * time.Second,
		Server: map[string]any{
			"notifier": map[string]any{"lease": "3s", "poll": "100ms"},
			"bot":      map[string]any{"processing_ttl": "3s"},
		}}
	timeout := 3 * time.Minute
	if *long {
		cfg.Events, cfg.Kills, timeout = 20000, 12, 30*time.Minute
	}
	var sb strings.Builder
	cfg.Out = &sb
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rep, stats, err := chaos.Run(ctx, cfg)
	if err != nil {
		t.Logf("log tail:\n%s", chaos.LogTail(dir, 6000))
	}
	require.NoError(t, err)
	stats.Print(&sb)
	rep.Print(&sb)
	t.Log("\n" + sb.String())
	if os.Getenv("CHAOS_LOG") != "" {
		t.Logf("log tail:\n%s", chaos.LogTail(dir, 6000))
	}
	if rep.Lost+rep.Doubled+rep.Stuck+rep.Impossible > 0 {
		// Keep the server's whole log for the post-mortem (the temp dir
		// goes with the test).
		if b, err := os.ReadFile(filepath.Join(dir, "flowbot.log")); err == nil {
			keep := filepath.Join(os.TempDir(), fmt.Sprintf("flowbot-chaos-%d.log", time.Now().UnixNano()))
			if os.WriteFile(keep, b, 0o644) == nil {
				t.Logf("server log kept at %s", keep)
			}
		}
	}
	require.Len(t, rep.Kills, cfg.Kills+1, "signals sent")
	require.Positive(t, rep.Submitted, "no request was submitted")
	require.Zero(t, rep.Lost, "lost: acknowledged events or messages not reflected")
	require.Zero(t, rep.Doubled, "doubled: events or messages reflected more than once")
	require.Zero(t, rep.Stuck, "stuck: messages or cycles left pending")
	require.Zero(t, rep.Impossible, "requests in impossible states")
}

// TestChaosServerRestarts runs two replicas on a private PostgreSQL and
// Redis (initdb, pg_ctl, redis-server on free ports; the machine's shared
// servers are never touched), kills the replicas and restarts Redis
// (SIGKILL) and PostgreSQL (immediate stop) under load, and checks that
// nothing acknowledged was lost, doubled or left stuck. Opt-in
// (-chaos.servers or CHAOS_SERVERS=1, which .ci/run sets): it needs the
// servers' binaries and about two minutes.
func TestChaosServerRestarts(t *testing.T) {
	if !*servers && os.Getenv("CHAOS_SERVERS") == "" {
		t.Skip("chaos: server restarts run with -chaos.servers or CHAOS_SERVERS=1")
	}
	t.Parallel()
	dir, bin := buildFlowbot(t)
	cfg := chaos.Config{Bin: bin, Dir: dir, Events: 800, Kills: 2, Replicas: 2, Restarts: 4,
		Server: map[string]any{
			"notifier": map[string]any{"lease": "6s", "poll": "100ms"},
			"bot":      map[string]any{"processing_ttl": "6s"},
		}}
	timeout := 6 * time.Minute
	if *long {
		cfg.Events, cfg.Kills, cfg.Restarts, timeout = 12000, 10, 10, 40*time.Minute
	}
	var sb strings.Builder
	cfg.Out = &sb
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rep, stats, err := chaos.Run(ctx, cfg)
	require.NoError(t, err)
	stats.Print(&sb)
	rep.Print(&sb)
	t.Log("\n" + sb.String())
	require.Len(t, rep.Restarts, cfg.Restarts, "server restarts")
	require.Positive(t, rep.Submitted, "no request was submitted")
	require.Zero(t, rep.Lost, "lost: acknowledged events or messages not reflected")
	require.Zero(t, rep.Doubled, "doubled: events or messages reflected more than once")
	require.Zero(t, rep.Stuck, "stuck: messages or cycles left pending")
	require.Zero(t, rep.Impossible, "requests in impossible states")
}

// TestLoadWeb runs the cycle through the web playground's API as a
// browser does (claims typed, Submit and the approver's buttons clicked,
// task cards taken from the approvers' event streams, /status asked),
// with rejections, withdrawals and requests left open, and checks that
// every request ends as its events imply, every task card arrives once,
// and that both sides' CPU is accounted.
func TestLoadWeb(t *testing.T) {
	if testing.Short() {
		t.Skip("load: whole-process run skipped in -short")
	}
	t.Parallel()
	dir, bin := buildFlowbot(t)
	mix := chaos.Mix{Events: 400, Reject: 0.2, Withdraw: 0.1, Leave: 0.1, Wait: 30 * time.Second, PerApplicant: 2}
	var sb strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, stats, err := chaos.Run(ctx, chaos.Config{Bin: bin, Dir: dir, Events: mix.Events, Mix: mix, Out: &sb, Platform: "web",
		Server: map[string]any{"notifier": map[string]any{"poll": "100ms"}}})
	if err != nil {
		t.Logf("log tail:\n%s", chaos.LogTail(dir, 6000))
	}
	require.NoError(t, err)
	stats.Print(&sb)
	rep.Print(&sb)
	t.Log("\n" + sb.String())
	require.Equal(t, "web", rep.Platform)
	require.Positive(t, rep.Decided, "no request was decided")
	require.Positive(t, rep.Outbox, "no task card was delivered")
	require.Zero(t, rep.Lost, "lost")
	require.Zero(t, rep.Doubled, "doubled")
	require.Zero(t, rep.Stuck, "stuck")
	require.Zero(t, rep.Impossible, "impossible")
	_, n := stats.Percentile("status (web)", 50)
	require.Positive(t, n, "/status was asked")
	require.True(t, rep.CPU.ServerKnown)
	server, load := rep.CPUPerCycle()
	require.Positive(t, server, "server CPU per cycle")
	require.Positive(t, load, "load generator CPU per cycle")
	require.Less(t, server, time.Second, "server CPU per cycle is plausible")
	require.Less(t, load, time.Second, "load generator CPU per cycle is plausible")
}

// TestRunRefusesBadPlatform checks a platform other than feishu or web,
// and a web run with signals, is refused before anything starts.
func TestRunRefusesBadPlatform(t *testing.T) {
	t.Parallel()
	for _, cfg := range []chaos.Config{
		{Dir: t.TempDir(), Events: 10, Platform: "teams"},
		{Dir: t.TempDir(), Events: 10, Platform: "web", Kills: 1},
	} {
		_, _, err := chaos.Run(context.Background(), cfg)
		require.ErrorContains(t, err, "chaos:")
	}
}

// buildFlowbot builds cmd/flowbot into a new temp directory, the run's.
func buildFlowbot(t *testing.T) (dir, bin string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "flowbot")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/flowbot/flowbot/cmd/flowbot").CombinedOutput()
	require.NoError(t, err, "build flowbot: %s", out)
	return dir, bin
}

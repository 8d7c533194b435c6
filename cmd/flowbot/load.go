package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/flowbot/flowbot/internal/chaos"
)

// clickOps are the load's click operations: click-to-answer is their
// latency (the card callback's HTTP answer, the bot's work included).
var clickOps = []string{"submit (click)", "approve (click)", "reject (click)"}

// cmdLoad runs the whole-product load: it starts `flowbot serve` (this
// binary unless -bin) on a SQLite file with the Feishu fake, drives
// signed, encrypted Feishu messages and card clicks at /webhook/feishu,
// waits for every card at the fake, checks that nothing was lost or
// doubled, and prints the figures in the form docs/BENCHMARKS.md records.
func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mix := chaos.Mix{Wait: 90 * time.Second, PerApplicant: 2}
	var (
		setup   = fs.String("setup", "", "directory for the flow, the company, the config, log and database (default: a new temporary one)")
		bin     = fs.String("bin", "", "the flowbot binary to start (default: this one)")
		events  = fs.Int64("events", 6000, "event deliveries in all (a cycle is 3: the filing message, the submit click, the approve click)")
		quota   = fs.Float64("feishu-quota", 1e6, "the Feishu app's outbound quota per second and per minute given to flowbot (Feishu's own is 50/s and 1,000/min; the fake enforces none)")
		workers = fs.Int("workers", 8, "notifier.workers of the started flowbot")
		extra   = fs.Int("applicants", 0, "employees added to the example company's 11 applicants (each files one claim at a time)")
	)
	fs.IntVar(&mix.PerApplicant, "per-applicant", mix.PerApplicant, "concurrent cycles per applicant of the example company")
	fs.Float64Var(&mix.Reject, "reject", 0, "share of requests rejected (the rest approved)")
	fs.Float64Var(&mix.ByConversation, "by-conversation", 0, "share of submits typed (\"submit\") rather than clicked")
	fs.Float64Var(&mix.Dup, "dup", 0, "share of events delivered twice at once (same event id)")
	fs.Float64Var(&mix.DoubleClick, "double-click", 0, "share of clicks made twice at once")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errUsage
	}
	mix.Events = *events
	if *bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("load: find this binary: %w", err)
		}
		*bin = exe
	}
	dir := *setup
	if dir == "" {
		tmp, err := os.MkdirTemp("", "flowbot-load-")
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	rep, stats, err := chaos.Run(ctx, chaos.Config{Bin: *bin, Dir: dir, Events: *events, Mix: mix, Out: stderr, Applicants: *extra,
		Feishu: map[string]any{"rate": map[string]any{"app_per_second": *quota, "app_per_minute": *quota * 60, "chat_per_second": *quota}},
		Server: map[string]any{"notifier": map[string]any{"workers": *workers, "poll": "100ms"}}})
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	printLoad(stdout, rep, stats)
	if !rep.OK() {
		return fmt.Errorf("load: lost %d, doubled %d, stuck %d, impossible %d", rep.Lost, rep.Doubled, rep.Stuck, rep.Impossible)
	}
	return nil
}

// printLoad writes the run's figures: per operation, then the cycle rate
// and click-to-answer in one line.
func printLoad(w io.Writer, rep *chaos.Report, stats *chaos.Stats) {
	stats.Print(w)
	fmt.Fprintln(w)
	rep.Print(w)
	el := stats.Elapsed()
	p50, n := stats.Merged(50, clickOps...)
	p99, _ := stats.Merged(99, clickOps...)
	rate := 0.0
	if el > 0 {
		rate = float64(rep.Decided) / el.Seconds()
	}
	fmt.Fprintf(w, "\nwhole product, Feishu: %d cycles decided in %.1fs = %.0f cycles/s; click-to-answer p50 %s, p99 %s over %d clicks; every card at the fake: %v\n",
		rep.Decided, el.Seconds(), rate, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), n, rep.OK())
}

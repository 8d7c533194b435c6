package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
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
		via     = fs.String("via", "feishu", "where the cycles run: feishu (signed, encrypted events and card clicks at /webhook/feishu, cards at the Feishu fake) or web (the web playground's API as a browser: cards on the users' event streams)")
		profile = fs.String("cpuprofile", "", "write a CPU profile of the load generator itself (not the server: FLOWBOT_CPUPROFILE profiles that) to this file")
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
	if *via != "feishu" && *via != "web" {
		fmt.Fprintf(stderr, "load: -via %q: want feishu or web\n", *via)
		return errUsage
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return fmt.Errorf("load: cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("load: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
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
	company, err := chaos.LoadCompanyN(*extra)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	load0 := loadAverage()
	rep, stats, err := chaos.Run(ctx, chaos.Config{Bin: *bin, Dir: dir, Events: *events, Mix: mix, Out: stderr, Applicants: *extra, Platform: *via,
		Feishu: chaos.FeishuQuota(*quota),
		Server: map[string]any{"notifier": map[string]any{"workers": *workers, "poll": "100ms"}}})
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	printLoad(stdout, rep, stats, loadRun{command: "flowbot load " + strings.Join(args, " "), perApplicant: mix.PerApplicant,
		applicants: len(company.Applicants), load0: load0, load1: loadAverage()})
	if !rep.OK() {
		return fmt.Errorf("load: lost %d, doubled %d, stuck %d, impossible %d", rep.Lost, rep.Doubled, rep.Stuck, rep.Impossible)
	}
	return nil
}

// loadRun is what the summary says about the run besides its figures.
type loadRun struct {
	command                  string
	perApplicant, applicants int
	load0, load1             string // /proc/loadavg's 1-minute figure at the start and the end
}

// loadAverage is the 1-minute load average ("?" when unknown).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// printLoad writes the run's figures: per operation, then the cycle rate,
// click-to-answer and each side's CPU in one line, then the row
// docs/BENCHMARKS.md records.
func printLoad(w io.Writer, rep *chaos.Report, stats *chaos.Stats, run loadRun) {
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
	platform, where := "Feishu", "every card at the fake"
	if rep.Platform == "web" {
		platform, where = "web API", "every card on the event streams"
	}
	server, load := rep.CPUPerCycle()
	serverCPU, twoCores := "not known", "?"
	if rep.CPU.ServerKnown && server > 0 {
		serverCPU = ms(server) + " ms/cycle"
		twoCores = fmt.Sprintf("%.0f", 2*float64(time.Second)/float64(server))
	}
	fmt.Fprintf(w, "\nwhole product, %s: %d cycles decided in %.1fs = %.0f cycles/s; click-to-answer p50 %s, p99 %s over %d clicks; %s: %v\n",
		platform, rep.Decided, el.Seconds(), rate, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), n, where, rep.OK())
	fmt.Fprintf(w, "CPU per cycle: server %s (2 cores carry %s cycles/s for the server alone), load generator %s ms/cycle\n",
		serverCPU, twoCores, ms(load))
	fmt.Fprintf(w, "| whole product, %s, SQLite, %d cycles at once | `%s` | %.0f cycles/s; click-to-answer p50 %s, p99 %s; server CPU %s (%s cycles/s on 2 cores for the server alone); load generator CPU %s ms/cycle | load average %s → %s |\n",
		platform, run.perApplicant*run.applicants, run.command, rate, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond),
		serverCPU, twoCores, ms(load), run.load0, run.load1)
}

// ms is d in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

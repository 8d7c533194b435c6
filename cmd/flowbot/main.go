// Command flowbot runs the flowbot service and its admin commands.
//
//	flowbot serve [--config FILE]        run the bot, the adapters and the playground
//	flowbot flows validate DIR           check flow files; one line per mistake
//	flowbot flows graph ID [--dir DIR]   print a flow as a Mermaid diagram
//	flowbot directory import FILE        load users and departments (YAML or CSV)
//	flowbot directory sync [--dry-run]   merge the directories of the chat platforms
//	flowbot directory export             write the directory as JSON Lines or CSV
//	flowbot directory forget USER        erase a departed user's personal data
//	flowbot migrate [--config FILE]      run the database migrations
//	flowbot load [-events N] [-per-applicant N] [-via web]   whole-product load over the Feishu fake or the web API (see docs/BENCHMARKS.md)
//	flowbot tokens create|list|revoke    manage REST API tokens
//	flowbot webhooks list|deliveries|replay ID|subscribe|unsubscribe NAME   outgoing webhooks
//	flowbot demo seed [--config FILE] [-months N] [-seed N]  file six months of demo history through the engine
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/flowbot/flowbot/examples"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/orgfile"
)

const usage = `flowbot: chat-first workflows for Feishu, WeCom, DingTalk, Teams and the web.

Usage:
  flowbot serve [--config FILE]        run the service (default: SQLite ./flowbot.db, example flows, playground on http://127.0.0.1:8080)
  flowbot flows validate DIR           check every flow file in DIR
  flowbot flows graph ID [--dir DIR]   print flow ID as a Mermaid diagram (default DIR: the built-in examples)
  flowbot directory import FILE [--config FILE]
                                       replace the directory with users and departments from a YAML or CSV file
  flowbot directory sync [--dry-run] [--config FILE]
                                       read users and departments from the platforms under directory.sync and merge them (--dry-run: print what would change)
  flowbot directory export [--format jsonl|csv] [--what users|departments] [--config FILE]
                                       write the directory to stdout
  flowbot directory forget USER [--config FILE]
                                       erase a departed user's personal data (name replaced, id kept for the audit trail)
  flowbot migrate [--config FILE]      run the database migrations
  flowbot load [-events N] [-per-applicant N] [-via feishu|web] [-setup DIR] [-cpuprofile FILE]
                                       whole-product load: starts flowbot serve with the Feishu fake, drives
                                       signed Feishu messages and card clicks (or the web API), checks every
                                       card arrived once, prints both sides' CPU per cycle
  flowbot demo seed [--config FILE] [-months N] [-seed N]  file six months of demo history through the engine
  flowbot config check --config FILE   check a config file: unknown keys, missing secrets, bad values (with line numbers)
  flowbot tokens create --name N --scopes read,write,admin,flow:ID [--user U] [--expires 720h] [--config FILE]
                                       make an API token (the secret is printed once)
  flowbot tokens list [--config FILE]  list API tokens
  flowbot tokens revoke ID [--config FILE]
                                       revoke an API token
  flowbot webhooks list|deliveries|replay ID|unsubscribe NAME [--config FILE]
  flowbot webhooks subscribe --name N --url URL [--events a,b] [--flows x,y] [--from-start] [--config FILE]
                                       outgoing webhooks: subscriptions, deliveries (-sub, -status, -request, -n), send one again
`

// errUsage marks a command line mistake (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "flowbot:", err)
		os.Exit(1)
	}
}

// run executes one command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "flows":
		if len(args) < 2 {
			return errUsage
		}
		switch args[1] {
		case "validate":
			return cmdFlowsValidate(args[2:], stdout)
		case "graph":
			return cmdFlowsGraph(args[2:], stdout)
		}
	case "directory":
		if len(args) >= 2 {
			switch args[1] {
			case "import":
				return cmdDirectoryImport(ctx, args[2:], stdout)
			case "sync":
				return cmdDirectorySync(ctx, args[2:], stdout)
			case "export":
				return cmdDirectoryExport(ctx, args[2:], stdout)
			case "forget":
				return cmdDirectoryForget(ctx, args[2:], stdout)
			}
		}
	case "migrate":
		return cmdMigrate(ctx, args[1:], stdout)
	case "load":
		return cmdLoad(ctx, args[1:], stdout, stderr)
	case "tokens":
		return cmdTokens(ctx, args[1:], stdout)
	case "webhooks":
		return cmdWebhooks(ctx, args[1:], stdout)
	case "demo":
		if len(args) >= 2 && args[1] == "seed" {
			return cmdDemoSeed(ctx, args[2:], stdout, stderr)
		}
	case "config":
		if len(args) >= 2 && args[1] == "check" {
			return cmdConfigCheck(args[2:], stdout)
		}
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return errUsage
}

// loadConfig reads --config FILE (or the defaults) from a flag set.
func loadConfig(path string) (Config, error) {
	if path == "" {
		cfg := DefaultConfig()
		return cfg, cfg.Validate()
	}
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	return ParseConfig(f, true)
}

func cmdFlowsValidate(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errUsage
	}
	defs, _, err := flowdef.ParseDir(args[0])
	if err != nil {
		var list flowdef.Errors
		if errors.As(err, &list) {
			for _, e := range list {
				fmt.Fprintln(stdout, e.Error())
			}
			return fmt.Errorf("%d mistake(s) in %s", len(list), args[0])
		}
		return err
	}
	if len(defs) == 0 {
		return errors.New("no flow files (*.yaml, *.yml) in " + args[0])
	}
	for _, d := range defs {
		fmt.Fprintf(stdout, "ok  %-12s %s / %s (%d fields, %d steps)\n", d.ID, d.Name.ZH, d.Name.EN, len(d.Fields), len(d.Steps))
	}
	return nil
}

func cmdFlowsGraph(args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("flows graph", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	dir := fset.String("dir", "", "folder of flow files (default: the built-in examples)")
	id, rest := "", args
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		id, rest = rest[0], rest[1:]
	}
	if err := fset.Parse(rest); err != nil {
		return errUsage
	}
	if id == "" && fset.NArg() == 1 {
		id = fset.Arg(0)
	}
	if id == "" {
		return errUsage
	}
	defs, err := loadFlowDir(*dir)
	if err != nil {
		return err
	}
	for _, d := range defs {
		if d.ID == id {
			fmt.Fprint(stdout, flowdef.Mermaid(d))
			return nil
		}
	}
	return fmt.Errorf("no flow %q", id)
}

// loadFlowDir parses a folder of flows, or the embedded examples when dir is "".
func loadFlowDir(dir string) ([]*flowdef.Definition, error) {
	if dir != "" {
		defs, _, err := flowdef.ParseDir(dir)
		return defs, err
	}
	srcs, err := embeddedFlows()
	if err != nil {
		return nil, err
	}
	var defs []*flowdef.Definition
	for _, name := range sortedKeys(srcs) {
		d, err := flowdef.Parse(name, srcs[name])
		if err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	return defs, nil
}

// embeddedFlows returns the built-in example flows by file name.
func embeddedFlows() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(examples.FS, "flows", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := examples.FS.ReadFile(path)
		out[path] = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded flows: %w", err)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func cmdDirectoryImport(ctx context.Context, args []string, stdout io.Writer) error {
	file, cfgFile, err := oneArgAndConfig("directory import", args)
	if err != nil {
		return err
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	users, depts, err := orgfile.Parse(filepath.Base(file), src)
	if err != nil {
		return err // lists every bad row; nothing was imported
	}
	cfg, err := loadConfig(cfgFile)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer st.Close()
	// A CSV file holds one half of the directory: keep the other half.
	base := strings.ToLower(filepath.Base(file))
	if strings.HasSuffix(base, ".csv") {
		if strings.Contains(base, "department") {
			if users, err = st.Users(ctx); err != nil {
				return fmt.Errorf("read users: %w", err)
			}
		} else if depts, err = st.Departments(ctx); err != nil {
			return fmt.Errorf("read departments: %w", err)
		}
		if probs := orgfile.Validate(filepath.Base(file), users, depts, nil); len(probs) > 0 {
			return probs
		}
	}
	balances, err := orgfile.Balances(filepath.Base(file), src, users, time.Now())
	if err != nil {
		return err // lists every bad balance; nothing was imported
	}
	if err := st.ReplaceDirectory(ctx, users, depts); err != nil {
		return fmt.Errorf("import directory: %w", err)
	}
	if len(balances) > 0 {
		if err := st.UpsertBalances(ctx, balances, time.Now().UTC()); err != nil {
			return fmt.Errorf("import balances: %w", err)
		}
	}
	fmt.Fprintf(stdout, "imported %d users and %d departments from %s\n", len(users), len(depts), file)
	if len(balances) > 0 {
		fmt.Fprintf(stdout, "imported %d leave balances from %s\n", len(balances), file)
	}
	return nil
}

func cmdMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	cfgPath := fset.String("config", "", "config file")
	if err := fset.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) // opening runs the embedded migrations
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "migrated %s database\n", cfg.Database.Driver)
	return nil
}

// oneArgAndConfig parses "NAME ARG [--config FILE]", with ARG before or
// after the flags: a command that takes one argument and the config.
func oneArgAndConfig(name string, args []string) (arg, cfgPath string, err error) {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	cfg := fset.String("config", "", "config file")
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		arg, args = args[0], args[1:]
	}
	if err := fset.Parse(args); err != nil {
		return "", "", errUsage
	}
	if arg == "" && fset.NArg() == 1 {
		arg = fset.Arg(0)
	}
	if arg == "" {
		return "", "", errUsage
	}
	return arg, *cfg, nil
}

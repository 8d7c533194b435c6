package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"golang.org/x/time/rate"

	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalkdir"
	"github.com/flowbot/flowbot/adapters/feishu/feishudir"
	"github.com/flowbot/flowbot/adapters/teams/graphdir"
	"github.com/flowbot/flowbot/adapters/wecom/wecomdir"
	"github.com/flowbot/flowbot/api"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/flows"
)

// DirSyncConfig configures the directory sync from the chat platforms.
// A platform takes part when its block is set.
type DirSyncConfig struct {
	// Schedule is a cron spec for the sync inside `flowbot serve` ("" =
	// only `flowbot directory sync`).
	Schedule string `yaml:"schedule"`
	// Rate is the pace of page requests per platform, per second (default 5).
	Rate float64 `yaml:"rate"`
	// Mapping links platform accounts to directory users by hand
	// ("feishu:ou_1": lilei); it wins over email and mobile matching.
	Mapping map[string]string `yaml:"mapping"`
	// DeptMapping maps platform departments to directory departments
	// ("feishu:od_1": eng): one department across platforms; the other
	// departments of a mapped platform are reported as unmapped.
	DeptMapping map[string]string  `yaml:"dept_mapping"`
	Feishu      *FeishuDirConfig   `yaml:"feishu"`
	DingTalk    *DingTalkDirConfig `yaml:"dingtalk"`
	WeCom       *WeComDirConfig    `yaml:"wecom"`
	Graph       *GraphDirConfig    `yaml:"graph"`
}

type FeishuDirConfig struct {
	Platform  string `yaml:"platform"` // directory key, default "feishu"
	AppID     string `yaml:"app_id"`
	AppSecret string `yaml:"app_secret"`
	BaseURL   string `yaml:"base_url"`
}

type DingTalkDirConfig struct {
	Platform  string `yaml:"platform"` // default "dingtalk"
	AppKey    string `yaml:"app_key"`
	AppSecret string `yaml:"app_secret"`
	BaseURL   string `yaml:"base_url"`
	OAPIURL   string `yaml:"oapi_url"`
}

type WeComDirConfig struct {
	Platform string `yaml:"platform"` // default "wecom"
	CorpID   string `yaml:"corp_id"`
	Secret   string `yaml:"secret"`
	BaseURL  string `yaml:"base_url"`
}

type GraphDirConfig struct {
	Platform string `yaml:"platform"` // default "teams"
	// Poll is a cron spec for polling Graph's users delta query inside
	// `flowbot serve` ("" = no polling: Graph pushes nothing here, so
	// only the full sync sees Teams changes).
	Poll         string `yaml:"poll"`
	Tenant       string `yaml:"tenant"`
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	LoginURL     string `yaml:"login_url"`
	GraphURL     string `yaml:"graph_url"`
}

func (c DirSyncConfig) validate() []error {
	var errs []error
	bad := func(key, msg string) { errs = append(errs, fmt.Errorf("config: directory.sync.%s: %s", key, msg)) }
	if c.Rate < 0 {
		bad("rate", "must be >= 0")
	}
	if c.Feishu != nil && (c.Feishu.AppID == "" || c.Feishu.AppSecret == "") {
		bad("feishu", "needs app_id and app_secret")
	}
	if c.DingTalk != nil && (c.DingTalk.AppKey == "" || c.DingTalk.AppSecret == "") {
		bad("dingtalk", "needs app_key and app_secret")
	}
	if c.WeCom != nil && (c.WeCom.CorpID == "" || c.WeCom.Secret == "") {
		bad("wecom", "needs corp_id and secret")
	}
	if c.Graph != nil && (c.Graph.Tenant == "" || c.Graph.ClientID == "" || c.Graph.ClientSecret == "") {
		bad("graph", "needs tenant, client_id and client_secret")
	}
	for k, v := range c.Mapping {
		if p, id, ok := strings.Cut(k, ":"); !ok || p == "" || id == "" || v == "" {
			bad("mapping", fmt.Sprintf("%q: %q: want \"platform:account\": user id", k, v))
		}
	}
	for k, v := range c.DeptMapping {
		if p, id, ok := strings.Cut(k, ":"); !ok || p == "" || id == "" || v == "" {
			bad("dept_mapping", fmt.Sprintf("%q: %q: want \"platform:department\": department id", k, v))
		}
	}
	if c.Graph != nil && c.Graph.Poll != "" {
		if _, err := cronParser.Parse(c.Graph.Poll); err != nil {
			bad("graph.poll", err.Error())
		}
	}
	if c.Schedule != "" && len(c.sources()) == 0 {
		bad("schedule", "is set but no platform is configured under directory.sync")
	}
	return errs
}

// sources builds the configured platforms' sources, in priority order.
func (c DirSyncConfig) sources() []dirsync.Source {
	var out []dirsync.Source
	if f := c.Feishu; f != nil {
		out = append(out, feishudir.New(feishudir.Config{Platform: f.Platform, BaseURL: f.BaseURL, AppID: f.AppID, AppSecret: f.AppSecret}))
	}
	if d := c.DingTalk; d != nil {
		out = append(out, dingtalkdir.New(dingtalkdir.Config{Platform: d.Platform, BaseURL: d.BaseURL, OAPIURL: d.OAPIURL, AppKey: d.AppKey, AppSecret: d.AppSecret}))
	}
	if w := c.WeCom; w != nil {
		out = append(out, wecomdir.New(wecomdir.Config{Platform: w.Platform, BaseURL: w.BaseURL, CorpID: w.CorpID, Secret: w.Secret}))
	}
	if g := c.Graph; g != nil {
		out = append(out, graphdir.New(graphdir.Config{Platform: g.Platform, Tenant: g.Tenant, ClientID: g.ClientID, ClientSecret: g.ClientSecret, LoginURL: g.LoginURL, GraphURL: g.GraphURL}))
	}
	return out
}

// newSyncer returns the syncer of cfg over st.
func newSyncer(cfg DirSyncConfig, st flows.Store, log *slog.Logger) (*dirsync.Syncer, error) {
	return newSyncerWith(cfg, st, log, nil, nil)
}

// newSyncerWith is newSyncer whose change events route departures through
// dep and take lock around each change.
func newSyncerWith(cfg DirSyncConfig, st flows.Store, log *slog.Logger, dep dirsync.Departer, lock func(context.Context) (func(), error)) (*dirsync.Syncer, error) {
	ds, ok := st.(dirsync.Store)
	if !ok {
		return nil, errors.New("directory sync: the database does not keep sync progress")
	}
	srcs := cfg.sources()
	if len(srcs) == 0 {
		return nil, errors.New("directory sync: no platform configured under directory.sync (feishu, dingtalk, wecom, graph)")
	}
	return dirsync.New(dirsync.Config{Store: ds, Sources: srcs, Mapping: cfg.Mapping, DeptMapping: cfg.DeptMapping, Rate: rate.Limit(cfg.Rate), Logger: log, Departer: dep, Lock: lock}), nil
}

// syncDirectory runs one sync: prints the plan to out, and unless dry
// applies it and routes the departed users' open tasks.
func syncDirectory(ctx context.Context, s *dirsync.Syncer, eng *flows.Engine, dry bool, out io.Writer) error {
	p, err := s.Plan(ctx)
	if err != nil {
		return err
	}
	if err := p.Format(out); err != nil {
		return err
	}
	if dry {
		if err := s.Reset(ctx); err != nil {
			return err
		}
		_, err := fmt.Fprintln(out, "dry run: nothing changed")
		return err
	}
	if err := s.Apply(ctx, p); err != nil {
		return err
	}
	for _, id := range p.Departed {
		res, err := eng.Depart(ctx, id)
		if err != nil {
			return fmt.Errorf("directory sync: %w", err)
		}
		if len(res.Moved)+len(res.Cancelled)+len(res.Returned) > 0 {
			fmt.Fprintf(out, "%s: %d open tasks handed to fallback approvers, %d cancelled, %d given back to the approvers they stood in for (%s)\n", id, len(res.Moved), len(res.Cancelled), len(res.Returned), strings.Join(res.Numbers, ", "))
		}
		if len(res.Ended) > 0 {
			fmt.Fprintf(out, "%s: %d delegations to them ended\n", id, len(res.Ended))
		}
	}
	_, err = fmt.Fprintln(out, "applied")
	return err
}

func cmdDirectorySync(ctx context.Context, args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("directory sync", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	cfgPath := fset.String("config", "", "config file")
	dry := fset.Bool("dry-run", false, "print what would change, change nothing")
	if err := fset.Parse(args); err != nil || fset.NArg() > 0 {
		return errUsage
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := newSyncer(cfg.Directory.Sync, st, log)
	if err != nil {
		return err
	}
	cal, err := loadCalendar(cfg.Calendar.File)
	if err != nil {
		return err
	}
	eng := flows.New(flows.Config{Store: st, Calendar: cal, Logger: log})
	return syncDirectory(ctx, s, eng, *dry, stdout)
}

// exportColumns are the CSV columns of an export: the import's columns
// (flowbot directory import reads it back) and what sync adds.
var exportColumns = []string{"id", "name", "email", "mobile", "dept", "manager", "roles", "locale", "tz", "departed"}

func cmdDirectoryExport(ctx context.Context, args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("directory export", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	cfgPath := fset.String("config", "", "config file")
	format := fset.String("format", "jsonl", "jsonl or csv")
	what := fset.String("what", "users", "users or departments")
	if err := fset.Parse(args); err != nil || fset.NArg() > 0 {
		return errUsage
	}
	if *format != "jsonl" && *format != "csv" {
		return fmt.Errorf("directory export: --format must be jsonl or csv, not %q", *format)
	}
	if *what != "users" && *what != "departments" {
		return fmt.Errorf("directory export: --what must be users or departments, not %q", *what)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer st.Close()
	if *what == "departments" {
		ds, err := st.Departments(ctx)
		if err != nil {
			return fmt.Errorf("directory export: %w", err)
		}
		return exportDepts(stdout, ds, *format)
	}
	us, err := st.Users(ctx)
	if err != nil {
		return fmt.Errorf("directory export: %w", err)
	}
	return exportUsers(stdout, us, *format)
}

func exportUsers(w io.Writer, us []*flows.User, format string) error {
	if format == "jsonl" {
		enc := json.NewEncoder(w)
		for _, u := range us {
			if err := enc.Encode(u); err != nil {
				return fmt.Errorf("directory export: %w", err)
			}
		}
		return nil
	}
	plats := map[string]bool{}
	for _, u := range us {
		for k := range u.Platforms {
			plats[k] = true
		}
	}
	pcols := slices.Sorted(maps.Keys(plats))
	cw := csv.NewWriter(w)
	_ = cw.Write(append(slices.Clone(exportColumns), pcols...))
	for _, u := range us {
		row := []string{u.ID, u.Name, u.Email, u.Mobile, u.Dept, u.Manager, strings.Join(u.Roles, ";"), u.Locale, u.TZ, strconv.FormatBool(u.Departed)}
		for _, p := range pcols {
			row = append(row, u.Platforms[p])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("directory export: %w", err)
	}
	return nil
}

func exportDepts(w io.Writer, ds []*flows.Department, format string) error {
	if format == "jsonl" {
		enc := json.NewEncoder(w)
		for _, d := range ds {
			if err := enc.Encode(d); err != nil {
				return fmt.Errorf("directory export: %w", err)
			}
		}
		return nil
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "name", "name_en", "head", "parent"})
	for _, d := range ds {
		_ = cw.Write([]string{d.ID, d.Name, d.NameEN, d.Head, d.Parent})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("directory export: %w", err)
	}
	return nil
}

// ForgottenName is the name a forgotten user is shown by.
const ForgottenName = "离职员工 / Former employee"

// forgetUser erases the personal data of a departed user: name replaced,
// email, mobile, platform accounts, time zone, locale and preferred
// platform removed; the id stays, so the audit trail, statistics and
// delegations still read.
func forgetUser(ctx context.Context, st flows.Store, id string) error {
	us, err := st.Users(ctx)
	if err != nil {
		return fmt.Errorf("forget %s: %w", id, err)
	}
	ds, err := st.Departments(ctx)
	if err != nil {
		return fmt.Errorf("forget %s: %w", id, err)
	}
	i := slices.IndexFunc(us, func(u *flows.User) bool { return u.ID == id })
	if i < 0 {
		return fmt.Errorf("forget %s: no such user", id)
	}
	u := us[i]
	if !u.Departed {
		return fmt.Errorf("forget %s: %s has not left (only a departed user's data is erased; a sync marks departures)", id, id)
	}
	*u = flows.User{ID: u.ID, Name: ForgottenName, Dept: u.Dept, Manager: u.Manager, Departed: true}
	if err := st.ReplaceDirectory(ctx, us, ds); err != nil {
		return fmt.Errorf("forget %s: %w", id, err)
	}
	if ps, ok := st.(interface {
		SetPreference(ctx context.Context, user, platform string) error
	}); ok {
		if err := ps.SetPreference(ctx, id, ""); err != nil {
			return fmt.Errorf("forget %s: %w", id, err)
		}
	}
	return nil
}

func cmdDirectoryForget(ctx context.Context, args []string, stdout io.Writer) error {
	user, cfgFile, err := oneArgAndConfig("directory forget", args)
	if err != nil {
		return err
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
	if err := forgetUser(ctx, st, user); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "forgot the personal data of %s (id kept, shown as %q)\n", user, ForgottenName)
	return nil
}

// dirSyncLock is the Locker name that lets one replica run a scheduled sync.
const dirSyncLock = "directory-sync"

// wireDirSync schedules the directory sync of directory.sync.schedule
// inside serve: one replica at a time (the Locker), the plan logged, the
// departed users' tasks routed, the notifier kicked.
func (a *app) wireDirSync() error {
	spec := a.cfg.Directory.Sync.Schedule
	if spec == "" {
		return nil
	}
	s := a.dirEvents.s
	if s == nil {
		var err error
		if s, err = newSyncer(a.cfg.Directory.Sync, a.store, a.log); err != nil {
			return err
		}
	}
	a.dirSync = s
	owner := dirSyncOwner()
	a.starters = append(a.starters, func(ctx context.Context) error {
		c := cron.New(cron.WithParser(cronParser))
		if _, err := c.AddFunc(spec, func() { a.runDirSync(ctx, owner) }); err != nil {
			return fmt.Errorf("directory.sync.schedule: %w", err)
		}
		c.Start()
		go func() {
			<-ctx.Done()
			<-c.Stop().Done()
		}()
		return nil
	})
	return nil
}

// cronParser reads the directory's cron specs (seconds optional).
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// dirSyncOwner names this process for the sync lock.
func dirSyncOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// lockDirectory takes the directory-sync lock for one change of the
// directory through the API (waiting up to 5 s for a sync or another
// replica), so that no two writers interleave a read-change-write.
func (a *app) lockDirectory(ctx context.Context) (func(), error) {
	owner := fmt.Sprintf("api-%d-%d", os.Getpid(), a.dirLockSeq.Add(1))
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, err := a.state.locker.TryLock(ctx, dirSyncLock, owner, 30*time.Second)
		if err != nil {
			return nil, fmt.Errorf("take the directory lock: %w", err)
		}
		if ok {
			return func() { _ = a.state.locker.Unlock(context.WithoutCancel(ctx), dirSyncLock, owner) }, nil
		}
		if time.Now().After(deadline) {
			return nil, api.ErrDirectoryBusy
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runDirSync is one scheduled sync; it reports whether it ran (false: the
// lock is held elsewhere, or the sync failed and was logged).
func (a *app) runDirSync(ctx context.Context, owner string) bool {
	s := a.dirSync
	ok, err := a.state.locker.TryLock(ctx, dirSyncLock, owner, time.Hour)
	if err != nil || !ok {
		if err != nil {
			a.log.Warn("directory sync: lock", "err", err)
		}
		return false
	}
	defer func() { _ = a.state.locker.Unlock(context.WithoutCancel(ctx), dirSyncLock, owner) }()
	var out strings.Builder
	if err := syncDirectory(ctx, s, a.engine, false, &out); err != nil {
		a.log.Error("directory sync failed; the next run resumes where it stopped", "err", err)
		return false
	}
	a.log.Info("directory synced", "changes", out.String())
	a.kick()
	return true
}

// prefsOf is the store's preferred-platform keeper (both stores keep one).
func prefsOf(st flows.Store) bots.Preferences {
	if p, ok := st.(bots.Preferences); ok {
		return p
	}
	return nil
}

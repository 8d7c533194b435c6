package main

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of flowbot (see config.example.yaml,
// which documents every key).
type Config struct {
	Log        LogConfig        `yaml:"log"`
	HTTP       HTTPConfig       `yaml:"http"`
	Database   DatabaseConfig   `yaml:"database"`
	Redis      RedisConfig      `yaml:"redis"`
	Flows      FlowsConfig      `yaml:"flows"`
	Directory  DirectoryConfig  `yaml:"directory"`
	Calendar   CalendarConfig   `yaml:"calendar"`
	Engine     EngineConfig     `yaml:"engine"`
	Bot        BotConfig        `yaml:"bot"`
	Notifier   NotifierConfig   `yaml:"notifier"`
	Scheduler  SchedulerConfig  `yaml:"scheduler"`
	Playground PlaygroundConfig `yaml:"playground"`
	SignIn     SignInConfig     `yaml:"sign_in"`
	Feishu     FeishuConfig     `yaml:"feishu"`
	DingTalk   DingTalkConfig   `yaml:"dingtalk"`
	WeCom      WeComConfig      `yaml:"wecom"`
	Teams      TeamsConfig      `yaml:"teams"`
	API        APIConfig        `yaml:"api"`
	Webhooks   WebhooksConfig   `yaml:"webhooks"`
	// Server: this process's identity among replicas (owner.go).
	Server ServerConfig `yaml:"server"`
	// Attachments: where file fields are kept, how links are signed.
	Attachments AttachmentsConfig `yaml:"attachments"`
}

type APIConfig struct {
	AdminToken string `yaml:"admin_token"` // bootstrap bearer token with the admin scope; empty = none
	// Disabled turns the REST API (/api/v1) off (404).
	Disabled bool `yaml:"disabled"`
	// RatePerSecond and Burst limit the calls of each API token.
	RatePerSecond float64 `yaml:"rate_per_second"`
	Burst         int     `yaml:"burst"`
	// MaxBody bounds a request body in bytes.
	MaxBody int64 `yaml:"max_body"`
}

type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

type HTTPConfig struct {
	Addr            string        `yaml:"addr"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ShutdownGrace is how long, on SIGTERM, the adapters let work already
	// acknowledged to a platform (a click answered "processing") finish
	// before it is cancelled; cancelled work stays in the inbox and is
	// replayed by the next run or another replica.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// ReadTimeout bounds the arrival of a request's headers and, separately,
	// of its body; WriteTimeout the writing of an answer (the playground's
	// event stream lifts its own); IdleTimeout a kept-alive connection
	// between requests.
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`
	// MaxConns caps open connections (0 = no cap); past it a connection is
	// answered 503.
	MaxConns    int               `yaml:"max_conns"`
	MaxInFlight MaxInFlightConfig `yaml:"max_in_flight"`
}

// MaxInFlightConfig caps the requests handled at once per route group
// (0 = no cap); past a cap the answer is 503 with Retry-After.
type MaxInFlightConfig struct {
	Webhooks int `yaml:"webhooks"` // /webhook/...
	UI       int `yaml:"ui"`       // /ui/api/... (the event stream is not counted)
	API      int `yaml:"api"`      // /api/...
}

type DatabaseConfig struct {
	Driver   string `yaml:"driver"` // sqlite or postgres
	SQLite   string `yaml:"sqlite"` // file path
	Postgres string `yaml:"postgres"`
}

type RedisConfig struct {
	Enabled    bool     `yaml:"enabled"`
	Addrs      []string `yaml:"addrs"`
	MasterName string   `yaml:"master_name"`
	Username   string   `yaml:"username"`
	Password   string   `yaml:"password"`
	DB         int      `yaml:"db"`
	TLS        bool     `yaml:"tls"`
	Prefix     string   `yaml:"prefix"`
	// Timeouts of one Redis call; zero: 500ms each, so that a Redis outage
	// is noticed at once rather than holding up chat answers.
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
}

type FlowsConfig struct {
	Dir string `yaml:"dir"` // empty: the embedded examples
}

type DirectoryConfig struct {
	File string `yaml:"file"` // empty: the embedded example company when the directory is empty
	// Sync reads the directory from the chat platforms (directory.go).
	Sync DirSyncConfig `yaml:"sync"`
}

type CalendarConfig struct {
	File string `yaml:"file"` // empty: the embedded calendar
}

type EngineConfig struct {
	UrgeInterval time.Duration `yaml:"urge_interval"`
}

type BotConfig struct {
	AdminContact    string        `yaml:"admin_contact"`
	ConversationTTL time.Duration `yaml:"conversation_ttl"`
	DedupeTTL       time.Duration `yaml:"dedupe_ttl"`
	ProcessingTTL   time.Duration `yaml:"processing_ttl"`
}

type NotifierConfig struct {
	Workers int           `yaml:"workers"`
	Batch   int           `yaml:"batch"`
	Lease   time.Duration `yaml:"lease"`
	Poll    time.Duration `yaml:"poll"`
	// DrainTimeout is how long a stopping flowbot (SIGTERM) keeps
	// delivering what is due before it exits.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// Delivery is "all" (every platform a recipient has an account on) or
	// "one" (their /prefer platform, else the first of PlatformOrder they
	// are reachable on). Card updates reach every copy either way.
	Delivery      string   `yaml:"delivery"`
	PlatformOrder []string `yaml:"platform_order"`
}

type SchedulerConfig struct {
	Tick    string        `yaml:"tick"`
	Digest  string        `yaml:"digest"`
	Report  string        `yaml:"report"`
	LockTTL time.Duration `yaml:"lock_ttl"`
}

type PlaygroundConfig struct {
	Enabled bool `yaml:"enabled"`
	Demo    bool `yaml:"demo"`
	// AllowDemoWithRealPlatforms lets demo mode run next to a real IM:
	// anyone who reaches the port then acts as anyone, and real users are
	// told. Only for a closed test setup.
	AllowDemoWithRealPlatforms bool `yaml:"allow_demo_with_real_platforms"`
}

type FeishuConfig struct {
	Apps []FeishuApp `yaml:"apps"`
	// Rate is each app's outbound quota (defaults: Feishu's standard 50
	// calls a second, 1,000 a minute, 5 a second per chat). Raise it only
	// for an app whose quota Feishu raised, or against a fake.
	Rate FeishuRate `yaml:"rate"`
}

// FeishuRate is the outbound quota of a Feishu app (0: Feishu's default).
type FeishuRate struct {
	AppPerSecond  float64 `yaml:"app_per_second"`
	AppPerMinute  float64 `yaml:"app_per_minute"`
	ChatPerSecond float64 `yaml:"chat_per_second"`
}

type FeishuApp struct {
	AppID             string        `yaml:"app_id"`
	AppSecret         string        `yaml:"app_secret"`
	EncryptKey        string        `yaml:"encrypt_key"`
	VerificationToken string        `yaml:"verification_token"`
	Mode              string        `yaml:"mode"` // http or websocket
	BaseURL           string        `yaml:"base_url"`
	ReplayWindow      time.Duration `yaml:"replay_window"`
	BotOpenID         string        `yaml:"bot_open_id"`
}

// DefaultConfig is what `flowbot serve` runs with when no file is given:
// SQLite at ./flowbot.db, the embedded examples, the playground on
// 127.0.0.1:8080.
func DefaultConfig() Config {
	return Config{
		Log: LogConfig{Level: "info", Format: "text"},
		HTTP: HTTPConfig{
			Addr: "127.0.0.1:8080", ShutdownTimeout: 15 * time.Second, ShutdownGrace: 10 * time.Second,
			ReadTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute,
			MaxConns: 1024, MaxInFlight: MaxInFlightConfig{Webhooks: 128, UI: 64, API: 32},
		},
		Database:    DatabaseConfig{Driver: "sqlite", SQLite: "./flowbot.db"},
		Redis:       RedisConfig{Addrs: []string{"127.0.0.1:6379"}, Prefix: "flowbot:"},
		Directory:   DirectoryConfig{Sync: DirSyncConfig{Rate: 5}},
		Engine:      EngineConfig{UrgeInterval: time.Hour},
		Bot:         BotConfig{AdminContact: "IT 服务台 / IT helpdesk", ConversationTTL: 30 * time.Minute, DedupeTTL: 24 * time.Hour, ProcessingTTL: bots.ProcessingTTL},
		Notifier:    NotifierConfig{Workers: 4, Batch: 50, Lease: notify.DefaultLease, Poll: 500 * time.Millisecond, DrainTimeout: 5 * time.Second, Delivery: "all", PlatformOrder: notify.PlatformOrder()},
		Scheduler:   SchedulerConfig{Tick: "@every 30s", Digest: "0 9 * * *", Report: "0 9 1 * *", LockTTL: 30 * time.Second},
		Playground:  PlaygroundConfig{Enabled: true},
		SignIn:      SignInConfig{Scopes: []string{"profile", "email"}, Match: "email", SessionTTL: 12 * time.Hour},
		API:         APIConfig{RatePerSecond: 20, Burst: 40, MaxBody: 1 << 20},
		Attachments: AttachmentsConfig{Store: "local", MaxSize: 20 << 20, LinkTTL: 7 * 24 * time.Hour, OrphanRetention: blobs.DefaultRetention, Clamd: ClamdConfig{Timeout: 10 * time.Second, WhenDown: "refuse"}},
		WeCom: WeComConfig{HandleTimeout: 4 * time.Second, MaxBodyBytes: 256 << 10, ReplayWindow: 5 * time.Minute,
			IdempotencyTTL: 24 * time.Hour, FollowUpTTL: 10 * time.Minute, Rate: WeComRate{PerMinute: 30, PerHour: 1000}},
	}
}

// ParseConfig reads YAML over the defaults, expanding ${ENV} references
// first when expandEnv is set.
func ParseConfig(r io.Reader, expandEnv bool) (Config, error) {
	cfg := DefaultConfig()
	b, err := io.ReadAll(r)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	if expandEnv {
		// Expand ${ENV} inside values only, after parsing, so a secret
		// holding YAML syntax (" #", "{", ": ") stays one value. The
		// references become plain-scalar placeholders first, so that they
		// parse anywhere (even inside a flow mapping's braces).
		b = envRef.ReplaceAll(b, []byte(envMark+"${1}${2}"+envMark))
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return cfg, fmt.Errorf("parse config: %w", err)
		}
		expandScalars(&doc)
		if b, err = yaml.Marshal(&doc); err != nil {
			return cfg, fmt.Errorf("parse config: %w", err)
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("parse config: %w", err)
	}
	return cfg, cfg.Validate()
}

// envRef matches a ${NAME} or $NAME reference; envMark brackets its
// placeholder.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

const envMark = "FLOWBOTENV9x7q"

var envPlaceholder = regexp.MustCompile(envMark + `([A-Za-z_][A-Za-z0-9_]*)` + envMark)

// expandScalars replaces the ${ENV} placeholders in every scalar value of
// a YAML tree by the variables' values.
func expandScalars(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		v := envPlaceholder.ReplaceAllStringFunc(n.Value, func(m string) string {
			return os.Getenv(strings.TrimSuffix(strings.TrimPrefix(m, envMark), envMark))
		})
		if v != n.Value {
			n.Value = v
			n.Style = yaml.DoubleQuotedStyle // keep it a string whatever it holds
		}
	}
	for _, c := range n.Content {
		expandScalars(c)
	}
}

// Validate names the first bad key it finds.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("config: %s: "+format, append([]any{key}, a...)...))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	c.Attachments.validate(bad)
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "must be text or json, not %q", c.Log.Format)
	}
	if c.HTTP.Addr == "" {
		bad("http.addr", "is empty")
	}
	if c.HTTP.ReadTimeout <= 0 {
		bad("http.read_timeout", "must be positive (a body must arrive within it), not %s", c.HTTP.ReadTimeout)
	}
	switch c.Database.Driver {
	case "sqlite":
		if c.Database.SQLite == "" {
			bad("database.sqlite", "is empty (a file path)")
		}
	case "postgres":
		if c.Database.Postgres == "" {
			bad("database.postgres", "is empty (a postgres:// URL; use ${ENV} for the password)")
		}
	default:
		bad("database.driver", "must be sqlite or postgres, not %q", c.Database.Driver)
	}
	specs := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	for key, spec := range map[string]string{"scheduler.tick": c.Scheduler.Tick, "scheduler.digest": c.Scheduler.Digest, "scheduler.report": c.Scheduler.Report, "directory.sync.schedule": c.Directory.Sync.Schedule} {
		if spec == "" {
			continue
		}
		if _, err := specs.Parse(spec); err != nil {
			bad(key, "is not a cron spec: %v", err)
		}
	}
	errs = append(errs, c.Directory.Sync.validate()...)
	if c.Notifier.Delivery != "all" && c.Notifier.Delivery != "one" {
		bad("notifier.delivery", "must be all or one, not %q", c.Notifier.Delivery)
	}
	for _, p := range c.Notifier.PlatformOrder {
		if !slices.Contains(notify.PlatformOrder(), p) {
			bad("notifier.platform_order", "unknown platform %q (known: %s)", p, strings.Join(notify.PlatformOrder(), ", "))
		}
	}
	for key, n := range map[string]int{
		"http.max_conns": c.HTTP.MaxConns, "http.max_in_flight.webhooks": c.HTTP.MaxInFlight.Webhooks,
		"http.max_in_flight.ui": c.HTTP.MaxInFlight.UI, "http.max_in_flight.api": c.HTTP.MaxInFlight.API,
		"notifier.workers": c.Notifier.Workers, "notifier.batch": c.Notifier.Batch, "redis.db": c.Redis.DB} {
		if n < 0 {
			bad(key, "must be >= 0, not %d", n)
		}
	}
	for key, d := range map[string]time.Duration{
		"http.shutdown_timeout": c.HTTP.ShutdownTimeout, "http.shutdown_grace": c.HTTP.ShutdownGrace, "http.write_timeout": c.HTTP.WriteTimeout, "http.idle_timeout": c.HTTP.IdleTimeout, "notifier.lease": c.Notifier.Lease, "notifier.poll": c.Notifier.Poll, "notifier.drain_timeout": c.Notifier.DrainTimeout,
		"scheduler.lock_ttl": c.Scheduler.LockTTL, "redis.dial_timeout": c.Redis.DialTimeout,
		"redis.read_timeout": c.Redis.ReadTimeout, "redis.write_timeout": c.Redis.WriteTimeout, "bot.conversation_ttl": c.Bot.ConversationTTL, "bot.processing_ttl": c.Bot.ProcessingTTL, "bot.dedupe_ttl": c.Bot.DedupeTTL, "engine.urge_interval": c.Engine.UrgeInterval,
	} {
		if d < 0 {
			bad(key, "must not be negative, not %s", d)
		}
	}
	if c.Redis.Enabled && len(c.Redis.Addrs) == 0 {
		bad("redis.addrs", "is empty while redis.enabled is true")
	}
	for i, a := range c.Feishu.Apps {
		key := fmt.Sprintf("feishu.apps[%d]", i)
		if a.AppID == "" {
			bad(key+".app_id", "is empty")
		}
		if a.AppSecret == "" {
			bad(key+".app_secret", "is empty (set it from the environment: ${FEISHU_APP_SECRET})")
		}
		switch a.Mode {
		case "", "http":
			if a.EncryptKey == "" && a.VerificationToken == "" {
				bad(key+".encrypt_key", "http mode needs encrypt_key or verification_token so callbacks can be verified")
			}
		case "websocket":
		default:
			bad(key+".mode", "must be http or websocket, not %q", a.Mode)
		}
	}
	if err := checkDemo(c); err != nil {
		errs = append(errs, err)
	}
	c.DingTalk.validate(bad)
	c.WeCom.validate(bad)
	c.Teams.validate(bad)
	c.Webhooks.validate(bad)
	c.SignIn.validate(c.Playground, bad)
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// realPlatforms names the real IM platforms c configures: those with an
// app (Feishu, DingTalk, WeCom) or a bot id (Teams).
func realPlatforms(c Config) []string {
	var out []string
	for name, on := range map[string]bool{
		"feishu": len(c.Feishu.Apps) > 0, "dingtalk": len(c.DingTalk.Apps) > 0,
		"wecom": len(c.WeCom.Apps) > 0, "teams": c.Teams.AppID != "",
	} {
		if on {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// checkDemo refuses the playground's demo mode next to a real IM, where
// anyone who reaches the port could file and decide as any real user,
// unless playground.allow_demo_with_real_platforms says so.
func checkDemo(c Config) error {
	real := realPlatforms(c)
	if !c.Playground.Enabled || !c.Playground.Demo || len(real) == 0 || c.Playground.AllowDemoWithRealPlatforms {
		return nil
	}
	return fmt.Errorf("config: playground.demo: is true while %s is configured: anyone who reaches the port could act as any real user; "+
		"set playground.demo: false (or playground.allow_demo_with_real_platforms: true for a closed test setup)", strings.Join(real, ", "))
}

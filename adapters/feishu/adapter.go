package feishu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	lark "github.com/larksuite/oapi-sdk-go/v3"
	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"
	larkws "github.com/larksuite/oapi-sdk-go/v3/ws"

	"github.com/flowbot/flowbot/adapters/internal/apiclient"
	"github.com/flowbot/flowbot/adapters/internal/bg"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/dirsync"
)

// Platform is the bots.Event.Platform of this adapter.
const Platform = "feishu"

// Handler is what the adapter needs from the bot. Handle returns a nil
// error for anything the user should see (in the Reply) and a non-nil error
// for internal failures, which make Feishu redeliver.
type Handler interface {
	Handle(ctx context.Context, ev bots.Event) (bots.Reply, error)
}

// Inbox keeps events the adapter acknowledged before the bot finished
// them: Keep is called before the platform's answer, Done once the
// handler returned. What was kept and never marked done is replayed by
// the inbox's owner (bots.Bot with a store's inbox).
type Inbox interface {
	Keep(ctx context.Context, ev bots.Event) error
	Done(ctx context.Context, ev bots.Event) error
}

// Directory takes the directory changes the apps report (the contact
// events), decoded: dirsync.Syncer.ApplyEvent behind cmd's wiring, which
// knows the directory key of each app. It returns dirsync.ErrNoBaseline
// or dirsync.ErrNotSynced for an event it has no use for (acknowledged),
// any other error to have Feishu redeliver.
type Directory interface {
	ApplyEvent(ctx context.Context, app string, ev dirsync.Event) error
}

var _ bots.Messenger = (*Adapter)(nil)
var _ http.Handler = (*Adapter)(nil)

// Adapter connects one or more Feishu apps to the bot.
type Adapter struct {
	cfg  Config
	h    Handler
	log  *slog.Logger
	now  func() time.Time
	apps []*app
	byID map[string]*app

	// group runs the handlers of clicks (which may outlive their
	// answer); Close lets them finish within CloseGrace.
	group *bg.Group
	// inbox keeps a click answered "processing" before its handler
	// finished, so that a crash does not lose it (nil: not kept).
	inbox Inbox
	// dir takes the contact change events (nil: ignored).
	dir Directory
	// conns is the context of the long connections.
	conns     context.Context
	stopConns context.CancelFunc

	startOnce sync.Once
}

// app is the runtime state of one configured app.
type app struct {
	cfg    App
	client *lark.Client
	disp   *dispatcher.EventDispatcher
	ws     *larkws.Client

	tokMu  sync.Mutex
	tok    string
	tokExp time.Time

	limits *limiter
	images imageKeys // image_key of each uploaded card image

	// botID is the bot's open_id: the configured one, or the one fetched
	// by Start.
	botMu sync.Mutex
	botID string
}

var ignoredEvents = []string{
	"im.message.message_read_v1", "im.message.recalled_v1",
	"im.message.reaction.created_v1", "im.message.reaction.deleted_v1",
	"im.chat.member.bot.added_v1", "im.chat.member.bot.deleted_v1",
	"im.chat.disbanded_v1", "p2p_chat_create", "application.bot.menu_v6",
}

// New checks cfg and builds an adapter; it makes no network call.
func New(cfg Config, h Handler, opts ...Option) (*Adapter, error) {
	if h == nil {
		return nil, errors.New("feishu: new adapter: nil handler")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := options{log: slog.Default(), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.httpClient == nil {
		o.httpClient = apiclient.New(10 * time.Second)
	}
	a := &Adapter{cfg: cfg, h: h, log: o.log.WithGroup("feishu"), now: o.now, byID: map[string]*app{}}
	a.group = bg.New()
	a.inbox = o.inbox
	a.dir = o.dir
	a.conns, a.stopConns = context.WithCancel(context.Background())
	sdkLog := sdkLogger{a.log}
	for _, ac := range cfg.Apps {
		p := &app{
			cfg: ac,
			client: lark.NewClient(ac.ID, ac.Secret,
				lark.WithOpenBaseUrl(ac.BaseURL),
				lark.WithHttpClient(o.httpClient),
				// The SDK's token cache is package-global (shared by every
				// client of the process); each app keeps its own instead.
				lark.WithEnableTokenCache(false),
				lark.WithLogger(sdkLog),
				lark.WithLogLevel(larkcore.LogLevelError),
			),
			limits: newLimiter(cfg.Rate),
			botID:  ac.BotOpenID,
		}
		if ac.Mode == ModeHTTP && ac.EncryptKey == "" {
			a.log.Warn("app has no encrypt_key: callbacks are not signed, only the verification token and the event's create_time guard against forged and replayed requests; set encrypt_key (事件订阅 > Encrypt Key) to get signatures",
				"app", ac.ID)
		}
		p.disp = dispatcher.NewEventDispatcher(ac.VerificationToken, ac.EncryptKey)
		p.disp.InitConfig(larkevent.WithLogger(sdkLog), larkevent.WithLogLevel(larkcore.LogLevelError))
		p.disp.OnP2MessageReceiveV1(func(ctx context.Context, ev *larkim.P2MessageReceiveV1) error {
			return a.onMessage(ctx, p, ev)
		})
		p.disp.OnP2CardActionTrigger(func(ctx context.Context, ev *callback.CardActionTriggerEvent) (*callback.CardActionTriggerResponse, error) {
			return a.onClick(ctx, p, ev)
		})
		// Events an app is commonly subscribed to but the bot ignores: the
		// long connection would otherwise answer them with 500 (HTTP
		// answers 200 to any unknown type anyway).
		for _, typ := range ignoredEvents {
			p.disp.OnCustomizedEvent(typ, func(context.Context, *larkevent.EventReq) error { return nil })
		}
		a.onContactEvents(p)
		a.apps = append(a.apps, p)
		a.byID[ac.ID] = p
	}
	return a, nil
}

// Start fetches the bot's open_id of every app configured without one
// (GET /open-apis/bot/v3/info, so that group messages mentioning someone
// else are not taken for the bot), then opens the long connection of every
// websocket-mode app and returns once all are connected, or with the first
// error. HTTP-mode apps need no other start: mount the adapter at
// /webhook/feishu. A failed open_id fetch is logged, not returned: group
// messages then go by the leading-mention rule (see App.BotOpenID).
func (a *Adapter) Start(ctx context.Context) error {
	for _, p := range a.apps {
		if p.botOpenID() != "" {
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		id, err := a.fetchBotOpenID(fctx, p)
		cancel()
		if err != nil {
			a.log.Warn("get the bot's open_id; group messages go by their leading mention (set bot_open_id to avoid it)", "app", p.cfg.ID, "err", err)
			continue
		}
		p.botMu.Lock()
		p.botID = id
		p.botMu.Unlock()
	}
	var ready []chan error
	a.startOnce.Do(func() {
		for _, p := range a.apps {
			if p.cfg.Mode != ModeWebSocket {
				continue
			}
			ch := make(chan error, 1)
			ready = append(ready, ch)
			p.ws = larkws.NewClient(p.cfg.ID, p.cfg.Secret,
				larkws.WithDomain(p.cfg.BaseURL),
				larkws.WithEventHandler(p.disp),
				larkws.WithLogger(sdkLogger{a.log}),
				larkws.WithLogLevel(larkcore.LogLevelError),
				larkws.WithOnReady(func() { trySend(ch, nil) }),
				larkws.WithOnError(func(err error) { trySend(ch, err) }),
			)
			cli, id := p.ws, p.cfg.ID
			// The SDK's Start blocks forever (select{}) and ignores ctx.
			go func() {
				if err := cli.Start(a.conns); err != nil {
					a.log.Error("long connection ended", "app", id, "err", err)
					trySend(ch, err)
				}
			}()
		}
	})
	for _, ch := range ready {
		select {
		case err := <-ch:
			if err != nil {
				return fmt.Errorf("feishu: open long connection: %w", err)
			}
		case <-ctx.Done():
			return fmt.Errorf("feishu: open long connection: %w", ctx.Err())
		}
	}
	return nil
}

func trySend(ch chan error, err error) {
	select {
	case ch <- err:
	default:
	}
}

// Close stops background work and waits for it: handlers still running
// belong to clicks Feishu got its answer for ("processing"), so they get
// CloseGrace to finish before they are cancelled. Long connections are
// left to the process's end: the SDK's ws client has no safe way to stop
// (its Close races with its own read and ping loops, and Start never
// returns).
func (a *Adapter) Close() error {
	a.stopConns()
	if !a.group.Close(a.cfg.CloseGrace) {
		a.log.Warn("handlers still running after the close grace period: cancelled", "grace", a.cfg.CloseGrace)
	}
	return nil
}

// app picks the configured app by id; "" means the only app.
func (a *Adapter) app(id string) (*app, error) {
	if id == "" && len(a.apps) == 1 {
		return a.apps[0], nil
	}
	p, ok := a.byID[id]
	if !ok {
		return nil, fmt.Errorf("feishu: app %q: %w", id, ErrUnknownApp)
	}
	return p, nil
}

// botOpenID is the bot's open_id, "" while unknown.
func (p *app) botOpenID() string {
	p.botMu.Lock()
	defer p.botMu.Unlock()
	return p.botID
}

// fetchBotOpenID asks Feishu for the bot's own open_id.
func (a *Adapter) fetchBotOpenID(ctx context.Context, p *app) (string, error) {
	var body struct {
		Bot struct {
			OpenID string `json:"open_id"`
		} `json:"bot"`
	}
	err := a.call(ctx, p, "get bot info", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := p.client.Get(ctx, "/open-apis/bot/v3/info", nil, larkcore.AccessTokenTypeTenant, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		var ce larkcore.CodeError
		if err := json.Unmarshal(resp.RawBody, &ce); err != nil {
			return nil, ce, fmt.Errorf("decode bot info: %w", err)
		}
		if ce.Code == 0 {
			if err := json.Unmarshal(resp.RawBody, &body); err != nil {
				return nil, ce, fmt.Errorf("decode bot info: %w", err)
			}
		}
		return resp, ce, nil
	})
	if err != nil {
		return "", err
	}
	if body.Bot.OpenID == "" {
		return "", errors.New("feishu: get bot info: answer without open_id")
	}
	return body.Bot.OpenID, nil
}

// sdkLogger routes the SDK's logs to slog.
type sdkLogger struct{ l *slog.Logger }

func (s sdkLogger) Debug(ctx context.Context, args ...any) {
	s.l.DebugContext(ctx, fmt.Sprint(args...), "src", "sdk")
}
func (s sdkLogger) Info(ctx context.Context, args ...any) {
	s.l.DebugContext(ctx, fmt.Sprint(args...), "src", "sdk")
}
func (s sdkLogger) Warn(ctx context.Context, args ...any) {
	s.l.WarnContext(ctx, fmt.Sprint(args...), "src", "sdk")
}
func (s sdkLogger) Error(ctx context.Context, args ...any) {
	s.l.ErrorContext(ctx, fmt.Sprint(args...), "src", "sdk")
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowbot/flowbot/webhooks"
)

// WebhooksConfig is the webhooks: section: outgoing webhooks (docs/WEBHOOKS.md).
type WebhooksConfig struct {
	// AllowPrivate lets targets resolve to loopback, private, link-local...
	// addresses (refused by default).
	AllowPrivate bool `yaml:"allow_private"`
	// MaxAge: a delivery still failing this long after it was made is
	// marked failed (0 = 24h).
	MaxAge time.Duration `yaml:"max_age"`
	// Timeout bounds one attempt (0 = 10s).
	Timeout       time.Duration           `yaml:"timeout"`
	Subscriptions []webhooks.Subscription `yaml:"subscriptions"`
}

// validate reports the mistakes of the webhooks: section.
func (c WebhooksConfig) validate(bad func(key, format string, a ...any)) {
	if c.MaxAge < 0 {
		bad("webhooks.max_age", "must not be negative, not %s", c.MaxAge)
	}
	if c.Timeout < 0 {
		bad("webhooks.timeout", "must not be negative, not %s", c.Timeout)
	}
	seen := map[string]bool{}
	for i, s := range c.Subscriptions {
		key := fmt.Sprintf("webhooks.subscriptions[%d]", i)
		if err := s.Validate(); err != nil {
			bad(key, "%v", err)
		}
		if s.Name != "" && seen[s.Name] {
			bad(key+".name", "%q is used twice", s.Name)
		}
		seen[s.Name] = true
	}
}

// webhookStore is what a flows store offers when it keeps webhook
// deliveries (store/sqlite and store/postgres do).
type webhookStore interface {
	Webhooks() webhooks.Store
}

// subscriptionStore is what a flows store offers when it keeps webhook
// subscriptions made at run time (store/sqlite and store/postgres do).
type subscriptionStore interface {
	Subscriptions() webhooks.SubscriptionStore
}

// setupWebhooks builds the dispatcher when subscriptions are configured or
// the database keeps subscriptions made at run time (API, CLI), and has
// serve start it; its metrics go to a.metrics.
func (a *app) setupWebhooks() error {
	cfg := a.cfg.Webhooks
	ss, stored := a.store.(subscriptionStore)
	if len(cfg.Subscriptions) == 0 && !stored {
		return nil
	}
	ws, ok := a.store.(webhookStore)
	if !ok {
		return errors.New("config: webhooks: the database does not keep webhook deliveries")
	}
	var dyn webhooks.SubscriptionStore
	if stored {
		dyn = ss.Subscriptions()
	}
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flowbot_webhook_deliveries_total", Help: "Webhook delivery attempts by subscription and outcome (delivered, retry, failed).",
	}, []string{"subscription", "outcome"})
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "flowbot_webhook_queue_lag_seconds", Help: "Age of the oldest pending webhook delivery (0: none pending).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		at, ok, err := ws.Webhooks().OldestPending(ctx)
		if err != nil {
			return -1
		}
		if !ok {
			return 0
		}
		return time.Since(at).Seconds()
	})
	if err := a.metrics.reg.Register(outcomes); err != nil {
		return fmt.Errorf("register webhook metrics: %w", err)
	}
	if err := a.metrics.reg.Register(lag); err != nil {
		return fmt.Errorf("register webhook metrics: %w", err)
	}
	d, err := webhooks.New(webhooks.Config{
		Store: ws.Webhooks(), Events: a.store, Subscriptions: cfg.Subscriptions, Stored: dyn,
		Client: webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: cfg.AllowPrivate, Timeout: cfg.Timeout}),
		MaxAge: cfg.MaxAge, Log: a.log.With("service", "webhooks"),
		OnOutcome: func(sub, outcome string) { outcomes.WithLabelValues(sub, outcome).Inc() },
	})
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	a.starters = append(a.starters, func(ctx context.Context) error {
		go func() {
			if err := d.Run(ctx); err != nil {
				a.log.Error("webhooks stopped", "err", err)
			}
		}()
		return nil
	})
	return nil
}

// cmdWebhooks runs `flowbot webhooks list|deliveries|replay ID|subscribe|unsubscribe NAME`.
func cmdWebhooks(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	sub, args := args[0], args[1:]
	fset := flag.NewFlagSet("webhooks "+sub, flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	cfgPath := fset.String("config", "", "config file")
	subName := fset.String("sub", "", "only this subscription")
	status := fset.String("status", "", "only deliveries in this status (pending, delivered, failed)")
	request := fset.Int64("request", 0, "only deliveries of this request id")
	limit := fset.Int("n", 50, "at most this many deliveries")
	name := fset.String("name", "", "subscribe: the subscription's name")
	target := fset.String("url", "", "subscribe: the receiver's URL")
	events := fset.String("events", "", "subscribe: comma separated event types (default all)")
	flowIDs := fset.String("flows", "", "subscribe: comma separated flow ids (default all)")
	fromStart := fset.Bool("from-start", false, "subscribe: deliver the whole event log, not only what happens from now on")
	var id string
	if (sub == "replay" || sub == "unsubscribe") && len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		id, args = args[0], args[1:]
	}
	if err := fset.Parse(args); err != nil {
		return errUsage
	}
	if (sub == "replay" || sub == "unsubscribe") && id == "" && fset.NArg() == 1 {
		id = fset.Arg(0)
	}
	switch webhooks.Status(*status) {
	case "", webhooks.StatusPending, webhooks.StatusDelivered, webhooks.StatusFailed:
	default:
		return fmt.Errorf("webhooks deliveries: unknown status %q (pending, delivered, failed)", *status)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	ws, ok := st.(webhookStore)
	if !ok {
		return errors.New("the database does not keep webhook deliveries")
	}
	w := ws.Webhooks()
	var stored webhooks.SubscriptionStore
	if ss, ok := st.(subscriptionStore); ok {
		stored = ss.Subscriptions()
	}
	switch sub {
	case "subscribe", "unsubscribe":
		if stored == nil {
			return errors.New("the database does not keep webhook subscriptions")
		}
		return webhooksSubscribe(ctx, stdout, stored, cfg.Webhooks, sub, id, webhooks.Subscription{
			Name: *name, URL: *target, Events: splitFlag(*events), Flows: splitFlag(*flowIDs),
		}, *fromStart)
	case "list":
		subs := []webhooks.Subscription{}
		source := map[string]string{}
		for _, s := range cfg.Webhooks.Subscriptions {
			subs = append(subs, s)
			source[s.Name] = "config"
		}
		if stored != nil {
			more, err := stored.Subscriptions(ctx)
			if err != nil {
				return err
			}
			for _, s := range more {
				if source[s.Name] == "" {
					subs = append(subs, s)
					source[s.Name] = "database"
				}
			}
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSOURCE\tURL\tEVENTS\tFLOWS\tPENDING\tFAILED")
		for _, s := range subs {
			pending, err := w.Deliveries(ctx, webhooks.DeliveryFilter{Subscription: s.Name, Status: webhooks.StatusPending, Limit: 10000})
			if err != nil {
				return err
			}
			failed, err := w.Deliveries(ctx, webhooks.DeliveryFilter{Subscription: s.Name, Status: webhooks.StatusFailed, Limit: 10000})
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", s.Name, source[s.Name], s.URL, orAll(s.Events), orAll(s.Flows), len(pending), len(failed))
		}
		return tw.Flush()
	case "deliveries":
		ds, err := w.Deliveries(ctx, webhooks.DeliveryFilter{Subscription: *subName, Status: webhooks.Status(*status), InstanceID: *request, Limit: *limit})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSUBSCRIPTION\tTYPE\tREQUEST\tSTATUS\tATTEMPTS\tNEXT\tLAST ERROR")
		for _, d := range ds {
			next := ""
			if d.Status == webhooks.StatusPending {
				next = d.NextAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", d.ID, d.Subscription, d.Type, d.InstanceID, d.Status, d.Attempts, next, d.LastError)
		}
		return tw.Flush()
	case "replay":
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("webhooks replay: %q is not a delivery id: %w", id, errUsage)
		}
		if err := webhooks.Replay(ctx, w, n, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "delivery %d will be sent again (same id) by the running service\n", n)
		return nil
	}
	return errUsage
}

func orAll(l []string) string {
	if len(l) == 0 {
		return "*"
	}
	return fmt.Sprint(l)
}

// webhooksSubscribe runs `webhooks subscribe` (the secret is printed once)
// and `webhooks unsubscribe NAME`.
func webhooksSubscribe(ctx context.Context, stdout io.Writer, st webhooks.SubscriptionStore, cfg WebhooksConfig, sub, name string, s webhooks.Subscription, fromStart bool) error {
	if sub == "unsubscribe" {
		if !webhooks.ValidName(name) {
			return fmt.Errorf("webhooks unsubscribe: %q is not a subscription name: %w", name, errUsage)
		}
		if err := st.DeleteSubscription(ctx, name); err != nil {
			if errors.Is(err, webhooks.ErrNoSubscription) {
				return fmt.Errorf("webhooks unsubscribe: no subscription %q made with subscribe (those of the config file are removed there)", name)
			}
			return err
		}
		fmt.Fprintf(stdout, "subscription %s removed: no new deliveries are made for it\n", name)
		return nil
	}
	if !webhooks.ValidName(s.Name) {
		return fmt.Errorf("webhooks subscribe: --name must be 1 to 64 letters, digits, '_', '.' or '-', not %q", s.Name)
	}
	for _, c := range cfg.Subscriptions {
		if c.Name == s.Name {
			return fmt.Errorf("webhooks subscribe: %q is a subscription of the config file", s.Name)
		}
	}
	s.Secret = webhooks.NewSecret()
	if err := s.Validate(); err != nil {
		return fmt.Errorf("webhooks subscribe: %w", err)
	}
	if !cfg.AllowPrivate && webhooks.PrivateTarget(s.URL) {
		return fmt.Errorf("webhooks subscribe: %s points to a private, loopback or link-local address (allowed only with webhooks.allow_private)", s.URL)
	}
	if err := st.CreateSubscription(ctx, s, fromStart); err != nil {
		if errors.Is(err, webhooks.ErrExists) {
			return fmt.Errorf("webhooks subscribe: a subscription %q exists already", s.Name)
		}
		return err
	}
	start := "events from now on"
	if fromStart {
		start = "the whole event log"
	}
	fmt.Fprintf(stdout, "subscription %s made: %s gets %s\nsecret (shown once; verify X-Flowbot-Signature with it): %s\n", s.Name, s.URL, start, s.Secret)
	return nil
}

func splitFlag(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

package main

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// metrics are the Prometheus series of one process (its own registry: no
// global state).
type metrics struct {
	reg           *prometheus.Registry
	events        *prometheus.CounterVec
	commands      *prometheus.CounterVec
	decisions     *prometheus.CounterVec
	delivered     *prometheus.CounterVec
	deliveryFails *prometheus.CounterVec
	tickDuration  prometheus.Histogram
}

func newMetrics(store flows.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowbot_events_total", Help: "Inbound chat events by platform, kind (message, action) and outcome (handled, duplicate, refused, error).",
		}, []string{"platform", "kind", "outcome"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowbot_commands_total", Help: "Chat commands of known senders by command (the bot's commands; any other word is unknown).",
		}, []string{"command"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowbot_decisions_total", Help: "Decisions the engine accepted, by action (approve, reject, transfer, add_signer).",
		}, []string{"action"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowbot_deliveries_total", Help: "Messages delivered by platform.",
		}, []string{"platform"}),
		deliveryFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowbot_delivery_failures_total", Help: "Failed delivery attempts by platform.",
		}, []string{"platform"}),
		tickDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "flowbot_tick_duration_seconds", Help: "Duration of reminder/escalation/timeout ticks.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "flowbot_outbox_depth", Help: "Outbox messages waiting for delivery.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := store.OutboxDepth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	m.reg.MustRegister(m.events, m.commands, m.decisions, m.delivered, m.deliveryFails, m.tickDuration, depth,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// Delivered and Failed count deliveries (the notifier's metrics).
func (m *metrics) Delivered(platform string) { m.delivered.WithLabelValues(platform).Inc() }
func (m *metrics) Failed(platform string)    { m.deliveryFails.WithLabelValues(platform).Inc() }

// TickDuration records one tick (the scheduler's metrics).
func (m *metrics) TickDuration(d time.Duration) { m.tickDuration.Observe(d.Seconds()) }

// handler is what adapters call: the bot.
type handler interface {
	Handle(ctx context.Context, ev bots.Event) (bots.Reply, error)
}

// countingHandler counts inbound events before handing them to the bot.
type countingHandler struct {
	next handler
	m    *metrics
	kick func()
}

func (h countingHandler) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	r, err := h.next.Handle(ctx, ev)
	kind, outcome := "message", "handled"
	if ev.Action != nil {
		kind = "action"
	}
	switch {
	case r.Outcome != "":
		outcome = string(r.Outcome)
	case err != nil:
		outcome = "error"
	}
	// The platform label comes from the adapter, never from the sender.
	h.m.events.WithLabelValues(ev.Platform, kind, outcome).Inc()
	if outcome == "handled" {
		if ev.Action != nil && r.ToastKind != bots.ToastError && decisions[ev.Action.Name] {
			h.m.decisions.WithLabelValues(ev.Action.Name).Inc() // accepted by the engine
		}
		if word, _, _ := strings.Cut(strings.TrimSpace(ev.Text), " "); ev.Action == nil && strings.HasPrefix(word, "/") {
			h.m.commands.WithLabelValues(bots.KnownCommand(word)).Inc()
		}
	}
	if h.kick != nil {
		h.kick() // the engine may have written outbox messages: deliver now
	}
	return r, err
}

// decisions are the card actions that decide or move a task.
var decisions = map[string]bool{"approve": true, "reject": true, "transfer": true, "add_signer": true}

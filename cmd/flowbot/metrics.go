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
	eventsIn      *prometheus.CounterVec
	commands      *prometheus.CounterVec
	decisions     *prometheus.CounterVec
	delivered     *prometheus.CounterVec
	deliveryFails *prometheus.CounterVec
	tickDuration  prometheus.Histogram
}

func newMetrics(store flows.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		eventsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowbot_events_in_total", Help: "Inbound chat events by platform and kind (message, action).",
		}, []string{"platform", "kind"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowbot_commands_total", Help: "Chat commands by command word.",
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
	m.reg.MustRegister(m.eventsIn, m.commands, m.decisions, m.delivered, m.deliveryFails, m.tickDuration, depth,
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
	if ev.Action != nil {
		h.m.eventsIn.WithLabelValues(ev.Platform, "action").Inc()
	} else {
		h.m.eventsIn.WithLabelValues(ev.Platform, "message").Inc()
		word, _, _ := strings.Cut(strings.TrimSpace(ev.Text), " ")
		if strings.HasPrefix(word, "/") {
			h.m.commands.WithLabelValues(commandLabel(word)).Inc()
		}
	}
	r, err := h.next.Handle(ctx, ev)
	if ev.Action != nil && err == nil && r.ToastKind != bots.ToastWarning && r.ToastKind != bots.ToastError && decisions[ev.Action.Name] {
		h.m.decisions.WithLabelValues(ev.Action.Name).Inc() // accepted by the engine
	}
	if h.kick != nil {
		h.kick() // the engine may have written outbox messages: deliver now
	}
	return r, err
}

// decisions are the card actions that decide or move a task.
var decisions = map[string]bool{"approve": true, "reject": true, "transfer": true, "add_signer": true}

// commandLabel bounds the label's cardinality to known-looking words.
func commandLabel(w string) string {
	w = strings.ToLower(strings.TrimPrefix(w, "/"))
	if len(w) > 20 {
		return "other"
	}
	return w
}

package chaos

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// webCycle is a cycle through the web playground's API, as a browser
// makes it: the applicant types the claim (its summary card comes in the
// answer), clicks Submit on it; the task card arrives on the approver's
// event stream; the approver clicks (or the applicant withdraws); the
// applicant asks /status and sees the request.
func (d *Driver) webCycle(ctx context.Context, c *Cycle, filing *sync.Mutex) error {
	if err := d.webFile(ctx, c, filing); err != nil {
		return err
	}
	ackAt := c.ackAt
	task := strconv.FormatInt(c.Task, 10)
	wctx, cancel := context.WithTimeout(ctx, d.Mix.Wait)
	card, err := d.Web.WaitSince(wctx, c.Assignee, c.start, func(m Seen) bool {
		v, ok := button(m, "approve")
		return ok && valueOf(v, "task") == task
	})
	cancel()
	if err != nil {
		return fmt.Errorf("task card of task %d never arrived: %w", c.Task, err)
	}
	d.Stats.Add("task card delay", card.At.Sub(ackAt))
	switch c.Plan {
	case Approve:
		val, _ := button(card, "approve")
		c.Decided, _ = d.webClick(ctx, "approve (click)", c.Assignee, card.ID, "approve", val, nil)
	case Reject:
		val, _ := button(card, "reject")
		c.Decided, _ = d.webClick(ctx, "reject (click)", c.Assignee, card.ID, "reject", val, map[string]string{"comment": "chaos: not this time"})
	case Withdraw: // typed, in the applicant's one conversation
		filing.Lock()
		c.Decided = d.withdraw(ctx, c)
		filing.Unlock()
	case Leave:
	}
	if c.Plan != Leave && !c.Decided {
		return fmt.Errorf("decision not acknowledged")
	}
	// The applicant looks the request up: a typed command in the
	// applicant's one conversation, so not while another of their
	// filings waits for its Submit (it would start the conversation over).
	filing.Lock()
	defer filing.Unlock()
	var shown []Seen
	if _, ok := d.event(ctx, "status (web)", func(id string) (feishutest.Result, error) {
		r, ms, _, err := d.Web.post(ctx, "send", c.Applicant, map[string]any{"id": id, "user": c.Applicant, "text": "/status " + c.Number})
		shown = ms
		return r, err
	}); !ok {
		return fmt.Errorf("/status %s not answered", c.Number)
	}
	for _, m := range shown {
		if m.MsgType == "interactive" && contains(m, c.Number) {
			return nil
		}
	}
	return fmt.Errorf("/status %s answered without the request's card", c.Number)
}

// webFile types the claim and clicks Submit on its summary card, one
// filing at a time per applicant.
func (d *Driver) webFile(ctx context.Context, c *Cycle, filing *sync.Mutex) error {
	filing.Lock()
	defer filing.Unlock()
	user := c.Applicant
	text := fmt.Sprintf("/expense amount=%d category=travel description=%s", 100+c.K%900, c.Desc)
	isSummary := func(m Seen) bool {
		_, ok := button(m, "submit")
		return ok && contains(m, c.Desc)
	}
	var summary Seen
	found := false
	if _, ok := d.event(ctx, "file (web)", func(id string) (feishutest.Result, error) {
		r, ms, _, err := d.Web.post(ctx, "send", user, map[string]any{"id": id, "user": user, "text": text})
		for _, m := range ms {
			if isSummary(m) {
				summary, found = m, true
			}
		}
		return r, err
	}); !ok {
		return fmt.Errorf("filing message not acknowledged")
	}
	if !found { // answered by a duplicate delivery: the card came on the stream
		wctx, cancel := context.WithTimeout(ctx, d.Mix.Wait)
		m, err := d.Web.WaitSince(wctx, user, c.start, isSummary)
		cancel()
		if err != nil {
			return fmt.Errorf("summary card of %s never arrived: %w", c.Desc, err)
		}
		summary = m
	}
	val, _ := button(summary, "submit")
	ok, answer := d.webClick(ctx, "submit (click)", user, summary.ID, "submit", val, nil)
	c.ackAt, c.killsAtAck = time.Now(), d.kills.Load()
	if !ok {
		return fmt.Errorf("submit not acknowledged")
	}
	c.Submitted = true
	if err := d.db.instance(ctx, c); err != nil {
		return fmt.Errorf("%w (clicked, answered: %s)", err, answer)
	}
	return nil
}

// webClick clicks a card button over ui/api/action (again, as a user
// does, while the answer asks to try again) and reports whether the
// click was taken.
func (d *Driver) webClick(ctx context.Context, op, user, msgID, action string, val map[string]any, inputs map[string]string) (bool, string) {
	value := map[string]string{}
	if inner, ok := val["v"].(map[string]any); ok {
		for k, x := range inner {
			value[k] = fmt.Sprint(x)
		}
	}
	for try := 0; ; try++ {
		var toast string
		r, ok := d.event(ctx, op, func(id string) (feishutest.Result, error) {
			r, _, t, err := d.Web.post(ctx, "action", user, map[string]any{"id": id, "user": user, "message_id": msgID,
				"action": action, "value": value, "inputs": inputs})
			toast = t
			return r, err
		})
		if !ok || !refusedText(toast) {
			return ok, string(r.Body)
		}
		if try >= maxTries || !userPause(ctx) {
			return false, string(r.Body)
		}
		d.tryAgain.Add(1)
	}
}

// cardCounts counts, over every message shown (visit), the summary
// cards per claim description and the task cards per task.
func cardCounts(all func(func(Seen))) (summaries map[string]int, tasks map[string]int) {
	summaries, tasks = map[string]int{}, map[string]int{}
	all(func(m Seen) {
		if v, ok := button(m, "approve"); ok {
			tasks[valueOf(v, "task")]++
		}
		if _, ok := button(m, "submit"); ok {
			for desc := range descs(m.Content) {
				summaries[desc]++
			}
		}
	})
	return summaries, tasks
}

// descs are the cycles' descriptions ("chaos-0000123") in s.
func descs(s string) map[string]bool {
	out := map[string]bool{}
	for {
		i := strings.Index(s, "chaos-")
		if i < 0 {
			return out
		}
		s = s[i+len("chaos-"):]
		n := 0
		for n < len(s) && n < 8 && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 7 {
			out["chaos-"+s[:7]] = true
		}
	}
}

package flows

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// httpResult is what one run of an http step gave.
type httpResult struct {
	Status   int    `json:"status"`
	Body     string `json:"body,omitempty"` // excerpt
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts"`
}

func (r httpResult) ok() bool { return r.Status >= 200 && r.Status < 300 }

// RunHTTP performs the http step an outbox message of kind MsgHTTP names,
// with its timeout and retries, then records the result and moves the
// request on (or fails it, as the step says). A message about a request
// that has moved on already is ignored, so redelivery is harmless; the
// call carries an Idempotency-Key so the far side can ignore a repeat.
func (e *Engine) RunHTTP(ctx context.Context, m *OutboxMessage) error {
	v, err := e.View(ctx, m.InstanceID)
	if err != nil {
		return err
	}
	in := v.Instance
	if in.Status != StatusPending || in.StepID != m.StepID {
		return nil
	}
	s, _ := v.Def.Step(m.StepID)
	if s == nil || s.HTTP == nil {
		return fmt.Errorf("run http step: step %s of %s has no http call", m.StepID, in.FlowID)
	}
	// The call runs on its own budget, not the caller's deadline (the
	// notifier's delivery lease): cutting it half-way would leave an ERP
	// call made but unrecorded, and call it again on redelivery.
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpBudget(s.HTTP))
	defer cancel()
	res := e.callHTTP(callCtx, s.HTTP, map[string]any{
		"Form":      v.Form,
		"Instance":  map[string]any{"ID": in.ID, "Number": in.Number, "Flow": in.FlowID, "Applicant": in.Applicant, "CreatedAt": in.CreatedAt},
		"Applicant": v.Applicant,
	}, in.Number+"/"+s.ID)
	_, err = e.run(ctx, "record http step", func(o *op) error {
		l, err := e.load(o, m.InstanceID)
		if err != nil {
			return err
		}
		if l.in.Status != StatusPending || l.in.StepID != m.StepID {
			return nil
		}
		if err := o.event(l.in, nil, EvHTTPCalled, System, true, map[string]any{
			"status": res.Status, "body": res.Body, "error": res.Error, "attempts": res.Attempts, "ok": res.ok(),
		}); err != nil {
			return err
		}
		if res.ok() || s.HTTP.OnFailure == "continue" {
			if err := o.event(l.in, nil, EvStepDone, System, true, nil); err != nil {
				return err
			}
			_, idx := l.def.Step(s.ID)
			if err := e.advance(o, l.in, l.def, l.applicant, l.form, idx+1); err != nil {
				return err
			}
			return refreshCards(o, l)
		}
		l.in.Status = StatusFailed
		l.in.ClosedAt = ptr(o.now)
		if err := o.event(l.in, nil, EvCompleted, System, true, map[string]any{"status": StatusFailed}); err != nil {
			return err
		}
		if err := o.send(MsgFailed, l.in.Applicant, l.in, nil, map[string]any{"step": s.ID, "error": cmp.Or(res.Error, fmt.Sprintf("HTTP %d", res.Status))}); err != nil {
			return err
		}
		if err := o.save(l.in); err != nil {
			return err
		}
		return refreshCards(o, l)
	})
	return err
}

// refreshCards updates every copy of the request's cards after a step
// without approvers moved it (an http step done or failed): the card
// update of its last task also refreshes each request card.
func refreshCards(o *op, l *loaded) error {
	if len(l.tasks) == 0 {
		return nil
	}
	return o.send(MsgCardUpdate, "", l.in, l.tasks[len(l.tasks)-1], nil)
}

// callHTTP makes the call with retries and a per-attempt timeout.
func (e *Engine) callHTTP(ctx context.Context, c *flowdef.HTTPCall, data any, key string) httpResult {
	url, body, err := flowdef.RenderHTTP(c, data)
	if err != nil {
		return httpResult{Error: "render request: " + err.Error()}
	}
	timeout := cmp.Or(c.Timeout, 10*time.Second)
	var res httpResult
	for attempt := 0; attempt <= c.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				res.Error = ctx.Err().Error()
				return res
			case <-time.After(flowdef.HTTPRetryWait(attempt)):
			}
		}
		res = e.callOnce(ctx, c, url, body, key, timeout)
		res.Attempts = attempt + 1
		if res.ok() || (res.Status >= 400 && res.Status < 500 && res.Status != 429) {
			return res
		}
	}
	return res
}

func (e *Engine) callOnce(ctx context.Context, c *flowdef.HTTPCall, url string, body []byte, key string, timeout time.Duration) httpResult {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, cmp.Or(strings.ToUpper(c.Method), http.MethodPost), url, bytes.NewReader(body))
	if err != nil {
		return httpResult{Error: err.Error()}
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("User-Agent", "flowbot")
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return httpResult{Error: err.Error()}
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
	return httpResult{Status: resp.StatusCode, Body: string(excerpt)}
}

// httpBudget bounds a whole http step: its worst case (every attempt's
// timeout and the waits between them) plus a margin.
func httpBudget(c *flowdef.HTTPCall) time.Duration {
	c2 := *c
	c2.Timeout = cmp.Or(c.Timeout, 10*time.Second)
	return c2.WorstCase() + 5*time.Second
}

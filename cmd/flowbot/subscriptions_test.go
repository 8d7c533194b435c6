package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/webhooks"
)

// TestWebhooksSubscribeCLI: `webhooks subscribe` prints the secret once and
// starts at the end of the event log (or the start with --from-start);
// `list` shows it beside the config's; `unsubscribe` removes it; bad input
// is refused and changes nothing.
func TestWebhooksSubscribeCLI(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "flowbot.db")
	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(`database:
  driver: sqlite
  sqlite: `+dbPath+`
webhooks:
  subscriptions:
    - {name: erp, url: "https://erp.example.com/hook", secret: x}
`), 0o600))
	ctx := context.Background()
	db := testkit.OpenSQLiteFile(t, dbPath)
	testkit.LoadExampleOrg(t, ctx, db)
	engine := flows.New(flows.Config{Store: db, Clock: testkit.NewClock(time.Now())})
	testkit.PublishExampleFlows(t, ctx, engine)
	_, err := engine.Submit(ctx, flows.SubmitRequest{Actor: applicant, FlowID: "expense", Values: map[string]any{"amount": 100, "category": "travel", "description": "taxi"}})
	require.NoError(t, err)

	out, _, err := runCLI(t, "webhooks", "subscribe", "--config", cfgPath, "--name", "crm", "--url", "https://crm.example.com/in", "--events", "request.approved,request.rejected")
	require.NoError(t, err)
	require.Regexp(t, `secret \(shown once.*\): whsec_[0-9a-f]{48}`, out)
	require.Contains(t, out, "events from now on")
	cur, err := db.Webhooks().Cursor(ctx, "crm")
	require.NoError(t, err)
	require.Positive(t, cur, "no history for a new subscription")

	_, _, err = runCLI(t, "webhooks", "subscribe", "--config", cfgPath, "--name", "audit", "--url", "https://audit.example.com/in", "--from-start")
	require.NoError(t, err)
	cur, err = db.Webhooks().Cursor(ctx, "audit")
	require.NoError(t, err)
	require.Zero(t, cur, "--from-start: the whole history")

	out, _, err = runCLI(t, "webhooks", "list", "--config", cfgPath)
	require.NoError(t, err)
	require.Regexp(t, `erp\s+config\s+https://erp.example.com/hook`, out)
	require.Regexp(t, `crm\s+database\s+https://crm.example.com/in\s+\[request.approved request.rejected\]`, out)
	require.NotContains(t, out, "whsec_", "list never shows secrets")

	for name, args := range map[string][]string{
		"taken":          {"--name", "crm", "--url", "https://other.example.com/"},
		"config's name":  {"--name", "erp", "--url", "https://other.example.com/"},
		"bad name":       {"--name", "a b", "--url", "https://other.example.com/"},
		"no url":         {"--name", "x1"},
		"private target": {"--name", "x2", "--url", "http://10.1.2.3/hook"},
		"unknown event":  {"--name", "x3", "--url", "https://other.example.com/", "--events", "request.exploded"},
	} {
		_, _, err := runCLI(t, append([]string{"webhooks", "subscribe", "--config", cfgPath}, args...)...)
		require.Error(t, err, name)
	}
	_, _, err = runCLI(t, "webhooks", "unsubscribe", "erp", "--config", cfgPath)
	require.ErrorContains(t, err, "config file", "a config subscription is not removed from the CLI")
	out, _, err = runCLI(t, "webhooks", "unsubscribe", "crm", "--config", cfgPath)
	require.NoError(t, err)
	require.Contains(t, out, "subscription crm removed")
	_, _, err = runCLI(t, "webhooks", "unsubscribe", "crm", "--config", cfgPath)
	require.Error(t, err, "removing twice")
	subs, err := db.Subscriptions().Subscriptions(ctx)
	require.NoError(t, err)
	require.Len(t, subs, 1)
	require.Equal(t, "audit", subs[0].Name)
}

// TestSubscriptionMadeThroughAPIIsDelivered: a subscription made through
// the API of a running flowbot gets the events that happen after it, signed
// with the secret the API showed, and not the earlier history.
func TestSubscriptionMadeThroughAPIIsDelivered(t *testing.T) {
	t.Parallel()
	got := make(chan []byte, 16)
	var secret string
	ready := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-ready
		body, _ := io.ReadAll(r.Body)
		if err := webhooks.Verify(secret, r.Header.Get(webhooks.HeaderTimestamp), r.Header.Get(webhooks.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got <- body
	}))
	t.Cleanup(recv.Close)
	cfg := testConfig(t.TempDir())
	cfg.Webhooks.AllowPrivate = true // the receiver is on 127.0.0.1
	cfg.API.AdminToken = "test-admin"
	run := startApp(t, cfg)
	ctx := context.Background()
	submit := func(desc string) *flows.Instance {
		out, err := run.app.engine.Submit(ctx, flows.SubmitRequest{Actor: applicant, FlowID: "expense", Values: map[string]any{"amount": 100, "category": "travel", "description": desc}})
		require.NoError(t, err)
		return out.Instance
	}
	old := submit("before the subscription")

	body, _ := json.Marshal(map[string]any{"name": "erp", "url": recv.URL + "/hook", "events": []string{"request.submitted"}})
	req, _ := http.NewRequest("POST", run.base+"/api/v1/admin/webhooks/subscriptions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer test-admin")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var made struct{ Secret string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&made))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	secret = made.Secret
	close(ready)

	fresh := submit("after the subscription")
	select {
	case b := <-got:
		var p struct {
			Type    string `json:"type"`
			Request struct {
				ID int64 `json:"id"`
			} `json:"request"`
		}
		require.NoError(t, json.Unmarshal(b, &p))
		require.Equal(t, "request.submitted", p.Type)
		require.Equal(t, fresh.ID, p.Request.ID, "the new request, not request %d filed before", old.ID)
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery within 30s")
	}
	select {
	case b := <-got:
		require.NotRegexp(t, regexp.MustCompile(`"id":`+strconv.FormatInt(old.ID, 10)+`\b`), string(b), "history was delivered")
	default:
	}
}

package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// getBody fetches url without following redirects.
func getBody(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	hc := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := hc.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func TestServeEndpoints(t *testing.T) {
	t.Parallel()
	r := startApp(t, testConfig(t.TempDir()))

	tests := []struct {
		name     string
		path     string
		status   int
		contains []string
		location string
	}{
		{name: "health", path: "/healthz", status: http.StatusOK, contains: []string{"ok"}},
		{name: "ready lists the database", path: "/readyz", status: http.StatusOK, contains: []string{"database: ok"}},
		{name: "root goes to the playground", path: "/", status: http.StatusFound, location: "/ui/"},
		{name: "playground page", path: "/ui/", status: http.StatusOK, contains: []string{"<html"}},
		{name: "metrics", path: "/metrics", status: http.StatusOK, contains: []string{"flowbot_outbox_depth", "go_goroutines"}},
		{name: "unknown path", path: "/nope", status: http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, h, body := getBody(t, r.base+tc.path)
			require.Equal(t, tc.status, code, "GET %s: %s", tc.path, body)
			for _, s := range tc.contains {
				require.Contains(t, body, s)
			}
			if tc.location != "" {
				require.Equal(t, tc.location, h.Get("Location"))
			}
		})
	}
}

func TestServeCountsEventsInMetrics(t *testing.T) {
	t.Parallel()
	r := startApp(t, testConfig(t.TempDir()))
	_, _, before := getBody(t, r.base+"/metrics")
	require.NotContains(t, before, `flowbot_events_total{kind="message",outcome="handled",platform="web"}`)

	r.pg.send(t, applicant, "/help")
	_, _, after := getBody(t, r.base+"/metrics")
	require.Contains(t, after, `flowbot_events_total{kind="message",outcome="handled",platform="web"} 1`)
	require.Contains(t, after, `flowbot_commands_total{command="help"} 1`)
	require.Contains(t, after, "flowbot_outbox_depth ")
}

// TestServeLeaveStory is the story a newcomer tries first: an employee
// asks for leave in the playground, the manager approves on the card, the
// employee is told. Then the process shuts down gracefully.
func TestServeLeaveStory(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	r := startApp(t, cfg)
	p := r.pg

	reason := "回老家 " + t.Name()
	number := fileLeave(t, p, applicant, leavePeriod(1), reason)
	require.True(t, strings.HasPrefix(number, "LEAVE-"), "leave numbers start with the flow's prefix: %s", number)

	// The manager's task card arrives (asynchronously) and is approved.
	task := r.pg.waitHistory(t, approver, "approve", number)
	require.Contains(t, task.text(), reason, "the approver reads the reason on the card")
	rep := p.click(t, approver, task, "approve", map[string]string{"comment": "同意"})
	require.NotEmpty(t, rep.Toast)
	require.NotNil(t, rep.Updated, "the clicked card is replaced at once")
	require.Empty(t, rep.Updated.Card.Buttons, "a decided card has no buttons")

	// A second click on the stale card changes nothing.
	code, again, err := p.tryClick(context.Background(), approver, task, "approve", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.NotEmpty(t, again.Toast, "a second approval is answered with a message")
	require.NotEqual(t, rep.Toast, again.Toast, "a second approval is refused, not done twice")

	// The applicant is told the request was approved.
	waitFor(t, 10*time.Second, "the approval notice", func() bool {
		for _, m := range p.history(t, applicant) {
			if m.Card != nil && m.Card.Color == "green" && strings.Contains(m.text(), number) {
				return true
			}
		}
		return false
	})
	// /mine lists it.
	mine := p.send(t, applicant, "/mine")
	var all []string
	for _, m := range mine.Messages {
		all = append(all, m.text())
	}
	require.Contains(t, strings.Join(all, "\n"), number)

	// Graceful shutdown: serve returns nil soon after its context ends.
	start := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		require.NoError(t, err)
		r.done <- err // for the cleanup
	case <-time.After(cfg.HTTP.ShutdownTimeout + 2*time.Second):
		t.Fatal("serve did not return within the shutdown timeout")
	}
	require.Less(t, time.Since(start), cfg.HTTP.ShutdownTimeout)
	_, err = http.Get(r.base + "/healthz")
	require.Error(t, err, "nothing listens after shutdown")
}

// An open event stream (the playground page) must not hold up shutdown.
func TestServeShutdownWithOpenEventStream(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	r := startApp(t, cfg)
	req, err := http.NewRequest(http.MethodGet, r.base+"/ui/api/events?user="+applicant, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	buf := make([]byte, 16)
	_, err = resp.Body.Read(buf) // the stream is open
	require.NoError(t, err)

	start := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		require.NoError(t, err)
		r.done <- err
	case <-time.After(cfg.HTTP.ShutdownTimeout + 2*time.Second):
		t.Fatal("serve did not return within the shutdown timeout")
	}
	require.Less(t, time.Since(start), 2*time.Second, "an open event stream is closed at shutdown, not waited for")
}

func TestNewAppRefusesBadSetup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(c *Config, dir string)
		want   string
	}{
		{"missing directory file", func(c *Config, dir string) { c.Directory.File = dir + "/none.yaml" }, "read directory file"},
		{"bad directory file", func(c *Config, dir string) {
			c.Directory.File = writeFile(t, dir, "org.yaml", "users:\n  - {id: a, name: A, manager: ghost}\n")
		}, `unknown manager "ghost"`},
		{"missing calendar", func(c *Config, dir string) { c.Calendar.File = dir + "/none.yaml" }, "read calendar"},
		{"bad flow file", func(c *Config, dir string) {
			c.Flows.Dir = dir + "/flows"
			writeFile(t, dir, "flows/x.yaml", "id: x\nname: {zh: 甲, en: X}\nsteps:\n  - id: s\n    name: {zh: 一, en: One}\n    mode: sometimes\n    approvers: [{manager: 1}]\n")
		}, "sometimes"},
		{"database in a missing folder", func(c *Config, dir string) { c.Database.SQLite = dir + "/no/such/dir/x.db" }, "open sqlite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg := testConfig(dir)
			tc.change(&cfg, dir)
			a, err := newApp(context.Background(), cfg, io.Discard)
			if a != nil {
				a.close()
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// Two flow files with the same id are a mistake for `flows validate`; serve
// must refuse them too instead of publishing the later file as a new
// version of the other flow.
func TestNewAppRefusesDuplicateFlowIDs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	leave, err := embeddedFlows()
	require.NoError(t, err)
	writeFile(t, dir, "flows/a.yaml", string(leave["flows/leave.yaml"]))
	writeFile(t, dir, "flows/b.yaml", strings.Replace(string(leave["flows/leave.yaml"]), "name: {zh: 请假, en: Leave}", "name: {zh: 休假, en: Time off}", 1))
	cfg := testConfig(dir)
	cfg.Flows.Dir = dir + "/flows"
	a, err := newApp(context.Background(), cfg, io.Discard)
	if a != nil {
		a.close()
	}
	require.ErrorContains(t, err, "already defined")
}

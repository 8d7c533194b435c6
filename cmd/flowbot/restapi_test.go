package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/api/tokens"
)

// A token made by `flowbot tokens create`, then a whole request driven
// through the REST API only: filed for an applicant with an idempotency
// key, listed, decided by the manager with their own CLI-made token, read
// with its audit trail, exported as CSV and JSON Lines; then the token is
// revoked with the CLI and refused.
func TestRESTAPIEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "flowbot.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte("database:\n  driver: sqlite\n  sqlite: "+filepath.Join(dir, "flowbot.db")+"\n"), 0o600))
	cfg, err := loadConfig(cfgFile)
	require.NoError(t, err)
	a, err := newApp(ctx, cfg, &syncBuffer{})
	require.NoError(t, err)
	defer a.close()

	cli := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		require.NoError(t, run(ctx, append(args, "--config", cfgFile), &out, &out), "flowbot %v: %s", args, out.String())
		return out.String()
	}
	secretOf := func(out string) string {
		line, _, _ := strings.Cut(out, "\n")
		require.True(t, strings.HasPrefix(line, "fbt_"), "no secret in %q", out)
		return line
	}
	svc := secretOf(cli("tokens", "create", "--name", "erp", "--scopes", "write,flow:leave"))
	lilei := secretOf(cli("tokens", "create", "--name", "lilei phone", "--scopes", "write", "--user", "lilei", "--expires", "720h"))
	var out bytes.Buffer
	require.Error(t, run(ctx, []string{"tokens", "create", "--name", "x", "--scopes", "root", "--config", cfgFile}, &out, &out), "an unknown scope is refused")
	require.Error(t, run(ctx, []string{"tokens", "create", "--name", "x", "--scopes", "read", "--user", "ghost", "--config", cfgFile}, &out, &out), "an unknown user is refused")

	call := func(method, path, secret, body string, hdr ...string) (int, []byte) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		a.mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	}
	form := `{"flow":"leave","applicant":"hanmeimei","values":{"type":"annual","period":"2026-12-07 to 2026-12-08","reason":"rest"}}`
	code, body := call("POST", "/api/v1/requests", svc, form, "Idempotency-Key", "erp-77")
	require.Equal(t, http.StatusCreated, code, "%s", body)
	var created struct {
		ID    int64 `json:"id"`
		Tasks []struct {
			ID       int64  `json:"id"`
			Assignee string `json:"assignee"`
		} `json:"tasks"`
	}
	require.NoError(t, json.Unmarshal(body, &created))
	code, _ = call("POST", "/api/v1/requests", svc, form, "Idempotency-Key", "erp-77")
	require.Equal(t, http.StatusConflict, code)

	code, body = call("GET", "/api/v1/requests?applicant=hanmeimei", svc, "")
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.Contains(t, string(body), fmt.Sprintf(`"id":%d`, created.ID))

	require.Len(t, created.Tasks, 1)
	require.Equal(t, "lilei", created.Tasks[0].Assignee)
	code, body = call("POST", fmt.Sprintf("/api/v1/tasks/%d/decide", created.Tasks[0].ID), lilei, `{"decision":"approve","comment":"enjoy"}`)
	require.Equal(t, http.StatusOK, code, "%s", body)

	code, body = call("GET", fmt.Sprintf("/api/v1/requests/%d", created.ID), lilei, "")
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.Contains(t, string(body), `"status":"approved"`)
	require.Contains(t, string(body), `"type":"completed"`)

	code, body = call("GET", "/api/v1/export/requests?format=csv", svc, "")
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.Contains(t, string(body), ",hanmeimei,approved,")
	code, body = call("GET", "/api/v1/export/events?format=jsonl", svc, "")
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.Contains(t, string(body), `"type":"approved","actor":"lilei"`)

	list := cli("tokens", "list")
	require.Contains(t, list, "lilei phone")
	require.Contains(t, list, "flow:leave,write")
	var id string
	for _, l := range strings.Split(list, "\n") {
		if strings.Contains(l, "lilei phone") {
			id = strings.Fields(l)[0]
		}
	}
	require.Contains(t, cli("tokens", "revoke", id), "revoked")
	code, body = call("GET", "/api/v1/tasks", lilei, "")
	require.Equal(t, http.StatusUnauthorized, code, "%s", body)
	require.Contains(t, string(body), `"code":"unauthorized"`)
}

// A request filed through the REST API (an ERP's) reaches the approver's
// chat at once: the notifier is woken after the call, not at its next poll
// (an hour here).
func TestRESTAPICardsGoOutAtOnce(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	cfg.Notifier.Poll = time.Hour
	cfg.Scheduler.Tick = "@every 1h"
	r := startApp(t, cfg)
	ctx := t.Context()
	ts, err := tokenStore(r.app.store)
	require.NoError(t, err)
	tok, secret, err := tokens.New(tokens.NewParams{Name: "erp", Scopes: []string{"write"}, Now: time.Now()})
	require.NoError(t, err)
	require.NoError(t, ts.CreateToken(ctx, tok))
	time.Sleep(100 * time.Millisecond) // the notifier's first claim, at its start, is over

	reason := "ERP " + t.Name()
	form := `{"flow":"leave","applicant":"` + applicant + `","values":{"type":"annual","period":"2026-12-07 to 2026-12-08","reason":"` + reason + `"}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/api/v1/requests", strings.NewReader(form))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode, "%s", body)
	r.pg.waitHistory(t, approver, "approve", reason)
}

package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/bots"
)

// lockedBuffer is the command's stdout, read while it writes.
type lockedBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

func waitOutput(t *testing.T, out *lockedBuffer, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := rx.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited for %q in output:\n%s", re, out.String())
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

// TestByHand drives the command as a person would: a message, the bot's
// card, a click on it, with the real adapter configured from the printed
// config block.
func TestByHand(t *testing.T) {
	t.Parallel()
	var handler http.Handler
	var hmu sync.Mutex
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hmu.Lock()
		h := handler
		hmu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hook.Close)

	inR, inW := io.Pipe()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"-addr", "127.0.0.1:0", "-webhook", hook.URL}, inR, out, io.Discard)
	}()
	base := waitOutput(t, out, `base_url (http://127\.0\.0\.1:\d+)`)[1]
	cfg := waitOutput(t, out, `(?s)app_id: (\S+)\s+app_secret: (\S+)\s+encrypt_key: (\S+)\s+verification_token: (\S+)\s+mode: http\s+base_url: (\S+)`)
	require.Equal(t, base, cfg[5])

	rec := &adaptertest.Recorder{ReplyFunc: func(ev bots.Event) (bots.Reply, error) {
		if ev.Action != nil {
			return bots.Reply{Toast: "已同意", Card: &bots.Card{Title: "已同意 Approved", Color: bots.ColorGreen}}, nil
		}
		return bots.Reply{Messages: []bots.Message{{Card: &bots.Card{Title: "请假审批", Buttons: []bots.Button{
			{Label: "同意", Action: "approve", Value: map[string]string{"task": "7"}},
			{Label: "拒绝", Action: "reject", Value: map[string]string{"task": "7"}},
		}}}}}, nil
	}}
	ad, err := feishu.New(feishu.Config{Apps: []feishu.App{{ID: cfg[1], Secret: cfg[2], EncryptKey: cfg[3], VerificationToken: cfg[4], BaseURL: cfg[5]}}},
		rec, feishu.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ad.Close() })
	require.NoError(t, ad.Start(t.Context()))
	hmu.Lock()
	handler = ad
	hmu.Unlock()

	write := func(line string) {
		_, err := io.WriteString(inW, line+"\n")
		require.NoError(t, err)
	}
	write("msg ou_alice 请假  3 天")
	waitOutput(t, out, `→ delivered \S+: HTTP 200`)
	ev := rec.WaitEvents(t, 1, 5*time.Second)[0]
	require.Equal(t, "请假  3 天", ev.Text)
	// The reply goes through the outbox: here the test plays the notifier.
	rep, _ := rec.ReplyFunc(ev)
	_, err = ad.Send(t.Context(), bots.Recipient{Platform: ev.Platform, App: ev.App, UserID: ev.UserID, ChatID: ev.ChatID}, rep.Messages[0], "outbox-1")
	require.NoError(t, err)
	msgID := waitOutput(t, out, `← bot to \S+: card (om_\w+) "请假审批"`)[1]

	write("cards ou_alice")
	waitOutput(t, out, msgID+`  "请假审批" \[同意:approve 拒绝:reject\]`)

	write("click ou_alice " + msgID + " approve comment=好的")
	waitOutput(t, out, `→ clicked approve on `+msgID+`: HTTP 200, toast \(info\) "已同意", card now "已同意 Approved" \[\]`)
	ev = rec.WaitEvents(t, 2, 5*time.Second)[1]
	require.Equal(t, "ou_alice", ev.UserID)
	require.Equal(t, &bots.Action{Name: "approve", Value: map[string]string{"task": "7"}, Inputs: map[string]string{"comment": "好的"}, MessageRef: cfg[1] + ":" + msgID}, ev.Action)
	write("cards ou_alice")
	waitOutput(t, out, msgID+`  "已同意 Approved" \[\]`)

	require.NoError(t, inW.Close())
	select {
	case err := <-done:
		require.NoError(t, err, "end of input ends the command")
	case <-time.After(5 * time.Second):
		t.Fatal("the command did not end with its input")
	}
}

func TestBadCommands(t *testing.T) {
	t.Parallel()
	tests := []struct{ line, want string }{
		{"frobnicate", `unknown command "frobnicate"`},
		{"msg ou_alice", "usage: msg"},
		{"click ou_alice om_nope approve", "error: no card om_nope"},
		{"click ou_alice", "usage: click"},
		{"cards", "usage: cards"},
		{"cards ou_nobody", "no cards sent to ou_nobody"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			out := &lockedBuffer{}
			err := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, strings.NewReader(tt.line+"\n"), out, io.Discard)
			require.NoError(t, err)
			require.Contains(t, out.String(), tt.want)
		})
	}
	t.Run("bad flag", func(t *testing.T) {
		t.Parallel()
		var errOut lockedBuffer
		err := run(context.Background(), []string{"-nope"}, strings.NewReader(""), io.Discard, &errOut)
		require.Error(t, err)
		require.Contains(t, errOut.String(), "Usage: feishufake")
	})
	t.Run("address in use", func(t *testing.T) {
		t.Parallel()
		l := httptest.NewServer(http.NotFoundHandler())
		defer l.Close()
		err := run(context.Background(), []string{"-addr", strings.TrimPrefix(l.URL, "http://")}, strings.NewReader(""), io.Discard, io.Discard)
		require.ErrorContains(t, err, "listen on")
	})
}

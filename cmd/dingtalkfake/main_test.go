package main

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/bots"
)

type buf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *buf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

// TestFakeByHand runs the command with the adapter connected to it as
// `flowbot serve` would be, types commands and reads the output.
func TestFakeByHand(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	inR, inW := io.Pipe()
	out := &buf{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", addr}, inR, out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		_ = inW.Close()
		require.NoError(t, <-done)
	})
	waitFor(t, "the config block", func() bool { return strings.Contains(out.String(), "card_template_id") })
	require.Contains(t, out.String(), "base_url: http://"+addr)

	rec := &adaptertest.Recorder{ReplyFunc: func(ev bots.Event) (bots.Reply, error) {
		return bots.Reply{Toast: "ok " + ev.Text}, nil
	}}
	a, err := dingtalk.New(dingtalk.Config{Apps: []dingtalk.App{{Key: appKey, Secret: appSecret, BaseURL: "http://" + addr, CardTemplateID: "tpl"}}}, rec)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	require.NoError(t, a.Start(sctx))

	_, err = io.WriteString(inW, "msg user0004 /expense 报销\n")
	require.NoError(t, err)
	waitFor(t, "the ack", func() bool { return strings.Contains(out.String(), "→ delivered, ack 200 SUCCESS") })
	evs := rec.WaitEvents(t, 1, 5*time.Second)
	require.Equal(t, "/expense 报销", evs[0].Text)

	card := bots.Card{Title: "Expense EXP-1", Inputs: []bots.Input{{Name: "comment", Label: "Comment"}}, Buttons: []bots.Button{{Label: "Approve", Action: "approve", Value: map[string]string{"task": "1"}}}}
	ref, err := a.Send(context.Background(), bots.Recipient{UserID: "user0003"}, bots.Message{Card: &card}, "k1")
	require.NoError(t, err)
	track := strings.SplitN(ref, "/", 2)[1]
	waitFor(t, "the card line", func() bool { return strings.Contains(out.String(), "card "+track) })
	_, err = io.WriteString(inW, "cards user0003\nclick user0003 "+track+" approve comment=ok\nbogus\n")
	require.NoError(t, err)
	waitFor(t, "the click", func() bool { return strings.Contains(out.String(), "→ clicked, ack 200") })
	waitFor(t, "the unknown command", func() bool { return strings.Contains(out.String(), `unknown command "bogus"`) })
	evs = rec.WaitEvents(t, 2, 5*time.Second)
	require.Equal(t, "approve", evs[1].Action.Name)
	require.Equal(t, "ok", evs[1].Action.Inputs["comment"])
}

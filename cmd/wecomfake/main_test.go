package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/wecom"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestFakeByHand runs the command against a real adapter: the URL check,
// a message and the printed config.
func TestFakeByHand(t *testing.T) {
	t.Parallel()
	rec := &adaptertest.Recorder{}
	ad, err := wecom.New(wecom.Config{Apps: []wecom.App{{CorpID: corpID, AgentID: agentID, Secret: secret, Token: token,
		EncodingAESKey: aesKey, BaseURL: "http://127.0.0.1:1"}}}, rec)
	require.NoError(t, err)
	defer ad.Close()
	srv := httptest.NewServer(ad)
	defer srv.Close()
	in := strings.NewReader("verify\nmsg LiLei /help\ncards LiLei\nbogus\n")
	out := &syncBuf{}
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-webhook", srv.URL + "/webhook/wecom"}, in, out, &syncBuf{})
	require.NoError(t, err)
	s := out.String()
	require.Contains(t, s, "encoding_aes_key: "+aesKey)
	require.Contains(t, s, "-> 200 wecomfake-echo")
	require.Contains(t, s, "-> 200\n")
	require.Contains(t, s, "no cards for LiLei")
	require.Contains(t, s, "unknown command")
	evs := rec.Events()
	require.Len(t, evs, 1)
	require.Equal(t, "/help", evs[0].Text)
	require.Equal(t, wecom.Platform, evs[0].Platform)
}

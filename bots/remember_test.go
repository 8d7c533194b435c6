package bots_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/internal/testkit"
)

// seenWrites counts the writes of "had a conversation here" records.
type seenWrites struct {
	*testkit.MemState
	n atomic.Int32
}

func (s *seenWrites) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if strings.HasPrefix(key, "convseen:") {
		s.n.Add(1)
	}
	return s.MemState.Set(ctx, key, val, ttl)
}

// The record that a user had a conversation in a chat (which lets a
// stray answer be told the conversation ended) is written when a
// conversation starts, not again at every answer; it is written anew once
// half of its day has passed, so it never lapses while conversations go
// on, and it still does its job after a conversation expired.
func TestConversationRememberedWithoutAWritePerAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := &seenWrites{MemState: b.state}
	b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: st, Dedupe: testkit.NewMemDedupe(), AdminContact: admin})

	require.Contains(t, text(b.say(t, "dev1", "/leave")), "第 1/3 项")
	require.Equal(t, int32(1), st.n.Load(), "written when the conversation starts")
	require.Contains(t, text(b.say(t, "dev1", "年假")), "第 2/3 项")
	require.Equal(t, int32(1), st.n.Load(), "not written again for an answer")

	b.clock.Add(31 * time.Minute)
	got := text(b.say(t, "dev1", "年假"))
	require.Contains(t, got, "已超时结束", "the expired conversation is still known")

	b.clock.Add(13 * time.Hour)
	require.Contains(t, text(b.say(t, "dev1", "/leave")), "第 1/3 项")
	require.Equal(t, int32(2), st.n.Load(), "written anew after half a day")
	b.clock.Add(31 * time.Minute)
	require.Contains(t, text(b.say(t, "dev1", "年假")), "已超时结束")
}

package chaos

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	s := NewStats()
	for i := 1; i <= 100; i++ {
		s.Add("op", time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{0, time.Millisecond},
		{50, 50 * time.Millisecond},
		{99, 99 * time.Millisecond},
		{100, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		got, n := s.Percentile("op", tt.p)
		require.Equal(t, 100, n)
		require.Equal(t, tt.want, got, "p%v", tt.p)
	}
	got, n := s.Percentile("none", 50)
	require.Zero(t, n)
	require.Zero(t, got)
}

func TestValueOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    map[string]any
		want string
	}{
		{"nested under v", map[string]any{"a": "approve", "v": map[string]any{"task": "12"}}, "12"},
		{"flat", map[string]any{"a": "approve", "task": float64(7)}, "7"},
		{"absent", map[string]any{"a": "approve", "v": map[string]any{"instance": "3"}}, ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, valueOf(tt.v, "task"), tt.name)
	}
}

func TestReportOK(t *testing.T) {
	t.Parallel()
	r := &Report{}
	require.True(t, r.OK())
	r.problem(&r.Stuck, "outbox message %d pending", 4)
	require.False(t, r.OK())
	require.Equal(t, []string{"outbox message 4 pending"}, r.Problems)
}

func TestRefusedToast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		toast *feishutest.Toast
		want  bool
	}{
		{"none", nil, false},
		{"processing", &feishutest.Toast{Type: "info", I18n: map[string]string{"en_us": processingToast, "zh_cn": "正在处理，请稍候"}}, false},
		{"adapter try again", &feishutest.Toast{Type: "error", I18n: map[string]string{"en_us": tryAgainToast, "zh_cn": "系统繁忙，请稍后重试"}}, true},
		{"bot internal error, zh", &feishutest.Toast{Type: "error", Content: "系统内部错误，请稍后重试。"}, true},
		{"bot internal error, en", &feishutest.Toast{Type: "error", Content: "Internal error, please try again in a moment."}, true},
		{"state down", &feishutest.Toast{Type: "error", Content: "暂时无法继续对话，请稍后再试。\nCannot continue the conversation right now, please try again shortly."}, true},
		{"a refusal is an answer", &feishutest.Toast{Type: "error", Content: "这个任务已经处理过了 / This task was already handled"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, refusedToast(tt.toast))
		})
	}
}

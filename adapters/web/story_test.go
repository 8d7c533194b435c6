package web_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

var eventSeq atomic.Int64

func (s *story) send(t *testing.T, user, text string) replyResponse {
	t.Helper()
	var out replyResponse
	r := postJSON(t, s.srv.URL+"/api/send", map[string]string{
		"id": fmt.Sprint("ev-", eventSeq.Add(1)), "user": user, "text": text,
	}, &out)
	require.Equal(t, http.StatusOK, r.StatusCode, "send %q as %s: %s", text, user, out.Error)
	return out
}

func (s *story) click(t *testing.T, user string, m wireMessage, action string, inputs map[string]string) replyResponse {
	t.Helper()
	require.NotNil(t, m.Card, "message %s has no card", m.ID)
	var value map[string]string
	for _, b := range m.Card.Buttons {
		if b.Action == action {
			value = b.Value
		}
	}
	require.NotNil(t, value, "card %q has no %s button", m.Card.Title, action)
	var out replyResponse
	r := postJSON(t, s.srv.URL+"/api/action", map[string]any{
		"id": fmt.Sprint("ev-", eventSeq.Add(1)), "user": user, "message_id": m.ID,
		"action": action, "value": value, "inputs": inputs,
	}, &out)
	require.Equal(t, http.StatusOK, r.StatusCode, "click %s as %s: %s", action, user, out.Error)
	return out
}

// lastWithButton is the newest message of msgs whose card has action.
func lastWithButton(t *testing.T, msgs []wireMessage, action string) wireMessage {
	t.Helper()
	for i := len(msgs) - 1; i >= 0; i-- {
		if c := msgs[i].Card; c != nil {
			for _, b := range c.Buttons {
				if b.Action == action {
					return msgs[i]
				}
			}
		}
	}
	t.Fatalf("no card with a %s button among %d messages", action, len(msgs))
	return wireMessage{}
}

func cardText(c *wireCard) string {
	if c == nil {
		return ""
	}
	var sb strings.Builder
	sb.WriteString(c.Title + "\n")
	for _, f := range c.Fields {
		sb.WriteString(f.Label + ": " + f.Value + "\n")
	}
	sb.WriteString(c.Markdown + "\n" + c.Note)
	return sb.String()
}

// newCardWith is the newest of msgs whose card shows every one of texts.
func newCardWith(t *testing.T, msgs []wireMessage, texts ...string) wireMessage {
	t.Helper()
	for i := len(msgs) - 1; i >= 0; i-- {
		ok := msgs[i].Card != nil
		for _, s := range texts {
			ok = ok && strings.Contains(cardText(msgs[i].Card), s)
		}
		if ok {
			return msgs[i]
		}
	}
	var got []string
	for _, m := range msgs {
		got = append(got, cardText(m.Card)+m.Text)
	}
	t.Fatalf("no new card showing %q; the new messages are: %q", texts, got)
	return wireMessage{}
}

func TestLeaveStoryOverHTTP(t *testing.T) {
	t.Parallel()
	s := setupStory(t)

	// The employee files a 5-day leave by conversation.
	s.send(t, employee, "请假")
	s.send(t, employee, "1")
	s.send(t, employee, "2026-12-01~2026-12-05")
	rep := s.send(t, employee, "跳过")
	summary := lastWithButton(t, rep.Messages, "submit")
	rep = s.click(t, employee, summary, "submit", nil)
	require.Contains(t, rep.Toast, "LEAVE-")
	number := rep.Toast[strings.Index(rep.Toast, "LEAVE-"):][:len("LEAVE-20261126-0001")]
	require.NotNil(t, rep.Updated, "the summary card turns into the request card")
	require.NoError(t, s.drain(s.ctx))

	// The manager's card arrives; he approves with a comment.
	task := lastWithButton(t, history(t, s.srv.URL, manager), "approve")
	require.Contains(t, cardText(task.Card), number)
	rep = s.click(t, manager, task, "approve", map[string]string{"comment": "同意，好好休息"})
	require.NotEmpty(t, rep.Toast)
	require.NotNil(t, rep.Updated)
	require.Empty(t, rep.Updated.Card.Buttons, "a decided card has no buttons")
	require.NoError(t, s.drain(s.ctx))

	// More than 3 days: HR approves too.
	hrTask := lastWithButton(t, history(t, s.srv.URL, hr), "approve")
	require.Contains(t, cardText(hrTask.Card), number)
	s.click(t, hr, hrTask, "approve", nil)
	require.NoError(t, s.drain(s.ctx))

	// The applicant is told; every copy of the task cards shows the outcome.
	mine := history(t, s.srv.URL, employee)
	last := mine[len(mine)-1]
	require.NotNil(t, last.Card)
	require.Equal(t, "green", last.Card.Color, "approved: %s", cardText(last.Card))
	require.Contains(t, cardText(last.Card), number)
	for _, user := range []string{manager, hr} {
		for _, m := range history(t, s.srv.URL, user) {
			if m.Card != nil && strings.Contains(cardText(m.Card), number) {
				require.Empty(t, m.Card.Buttons, "%s still sees buttons on %q", user, m.Card.Title)
			}
		}
	}

	// A second request, filed inline, is rejected with a reason.
	rep = s.send(t, employee, "/leave type=sick period=2026-12-10~2026-12-11 reason=看病")
	rep = s.click(t, employee, lastWithButton(t, rep.Messages, "submit"), "submit", nil)
	require.Contains(t, rep.Toast, "LEAVE-")
	number2 := rep.Toast[strings.Index(rep.Toast, "LEAVE-"):][:len("LEAVE-20261126-0002")]
	require.NotEqual(t, number, number2)
	require.NoError(t, s.drain(s.ctx))
	filed := s.clock.Now()
	require.Equal(t, time.Thursday, filed.Weekday())
	mgrBefore := len(history(t, s.srv.URL, manager))
	bossBefore := len(history(t, s.srv.URL, boss))

	// 4 working hours later (Thursday 14:00) 李雷 is reminded; nothing is
	// escalated yet.
	var clock struct {
		Now time.Time `json:"now"`
	}
	r := postJSON(t, s.srv.URL+"/api/clock", map[string]string{"advance": "4h"}, &clock)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.True(t, clock.Now.Equal(s.engine.Now()), "the page shows the engine's clock")
	reminder := newCardWith(t, history(t, s.srv.URL, manager)[mgrBefore:], number2, "⏰ 提醒")
	require.Contains(t, cardText(reminder.Card), "待你审批", "the reminder says who waits: %s", cardText(reminder.Card))
	require.NotEmpty(t, reminder.Card.Buttons, "李雷 can decide from the reminder")
	for _, m := range history(t, s.srv.URL, boss)[bossBefore:] {
		require.NotContains(t, cardText(m.Card), number2, "no escalation before one working day")
	}

	// More than one working day after filing (Friday 14:00): 王总, the
	// approver's manager, gets the escalation.
	r = postJSON(t, s.srv.URL+"/api/clock", map[string]string{"advance": "24h"}, &clock)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, time.Friday, clock.Now.In(filed.Location()).Weekday())
	escalation := newCardWith(t, history(t, s.srv.URL, boss)[bossBefore:], number2, "已超时未处理")
	require.Contains(t, cardText(escalation.Card), "李雷", "the escalation names the approver: %s", cardText(escalation.Card))
	require.Equal(t, "orange", escalation.Card.Color)

	task = lastWithButton(t, history(t, s.srv.URL, manager), "reject")
	require.Contains(t, cardText(task.Card), number2)
	rep = s.click(t, manager, task, "reject", map[string]string{"comment": "项目上线，人手不够"})
	require.NotEmpty(t, rep.Toast)
	require.NoError(t, s.drain(s.ctx))

	mine = history(t, s.srv.URL, employee)
	last = mine[len(mine)-1]
	require.NotNil(t, last.Card)
	require.Equal(t, "red", last.Card.Color, "rejected: %s", cardText(last.Card))
	require.Contains(t, cardText(last.Card), number2)
	require.Contains(t, cardText(last.Card), "项目上线，人手不够", "the applicant reads the reason")
	for _, m := range history(t, s.srv.URL, hr) {
		require.NotContains(t, cardText(m.Card), number2, "HR never gets a 2-day request")
	}
	for _, user := range []string{manager, boss} {
		for _, m := range history(t, s.srv.URL, user) {
			if strings.Contains(cardText(m.Card), number2) {
				require.Empty(t, m.Card.Buttons, "%s still sees buttons on %q", user, cardText(m.Card))
				require.Contains(t, cardText(m.Card), "驳回",
					"every copy (task card, reminder, escalation) shows the decision: %s has %q", user, cardText(m.Card))
			}
		}
	}
}

// Empty and too long texts reach the real bot, which answers in the
// sender's language; the long text stays in the chat, not lost.
func TestBotRefusesTextInUsersLanguage(t *testing.T) {
	t.Parallel()
	s := setupStory(t)
	long := strings.Repeat("长", bots.MaxTextChars+1) // counted in characters, not bytes
	tests := []struct {
		name, user, text, want string
	}{
		{"too long, Chinese user", employee, long, "消息太长了"},
		{"too long, English user", "tom", long, "too long"},
		{"empty, Chinese user", employee, "  ", "查看可用命令"},
		{"empty, English user", "tom", "", "Send /help"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := s.send(t, tt.user, tt.text)
			require.Len(t, rep.Messages, 1)
			require.Contains(t, rep.Messages[0].Text, tt.want)
			if tt.text == long {
				require.Contains(t, rep.Messages[0].Text, strconv.Itoa(bots.MaxTextChars), "the bot names its limit")
				require.Contains(t, rep.Messages[0].Text, strconv.Itoa(bots.MaxTextChars+1), "and the length in characters")
				require.NotNil(t, rep.Me)
				require.Equal(t, long, rep.Me.Text, "the refused text stays in the chat")
			}
		})
	}
}

package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
)

func approvalCard(state string) *bots.Card {
	return &bots.Card{
		Title:    "请假申请 LEAVE-1",
		Color:    bots.ColorBlue,
		Fields:   []bots.Field{{Label: "天数", Value: "3"}},
		Markdown: "**理由**\n- 家事",
		Inputs:   []bots.Input{{Name: "reason", Label: "意见"}},
		Buttons: []bots.Button{
			{Label: "同意", Action: "approve", Value: map[string]string{"task": "7"}, Style: bots.StylePrimary},
			{Label: "拒绝", Action: "reject", Value: map[string]string{"task": "7"}, Style: bots.StyleDanger},
		},
		Note: state,
	}
}

func TestPageAndRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	tests := []struct {
		method, path string
		status       int
		contentType  string
		contains     string
	}{
		{"GET", "/", 200, "text/html", `data-testid="messages"`},
		{"GET", "/index.html", 200, "text/html", `src="app.js"`},
		{"GET", "/app.js", 200, "javascript", "api/send"},
		{"GET", "/style.css", 200, "text/css", "@media (max-width: 480px)"},
		{"GET", "/nope.html", 404, "", ""},
		{"GET", "/api/nope", 404, "", "not found"},
		{"DELETE", "/api/send", 405, "", ""},
		{"GET", "/api/send", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, b.srv.URL+tt.path, nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
			require.Contains(t, resp.Header.Get("Content-Type"), tt.contentType)
			require.Contains(t, string(body), tt.contains)
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		})
	}
	require.Empty(t, b.handler.Events(), "no route may reach the bot")
}

func TestMountedUnderPrefix(t *testing.T) {
	t.Parallel()
	a := web.New(web.Config{Handler: &fakeHandler{}, Demo: true})
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", a.Handler()))
	for _, path := range []string{"/ui/", "/ui/index.html", "/ui/app.js", "/ui/api/clock"} {
		req, err := http.NewRequest(http.MethodGet, path, nil)
		require.NoError(t, err)
		rec := newRecorder()
		mux.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, path)
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	b.handler.HandleFunc = func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
		return bots.Reply{Messages: []bots.Message{
			{Text: "你好 " + ev.UserID},
			{Card: approvalCard("")},
		}}, nil
	}
	var resp replyResponse
	r := postJSON(t, b.srv.URL+"/api/send", map[string]string{"id": "ev-1", "user": "emp", "text": "  请假 "}, &resp)
	require.Equal(t, http.StatusOK, r.StatusCode)

	evs := b.handler.Events()
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, "web", ev.Platform)
	require.Equal(t, "ev-1", ev.ID)
	require.Equal(t, "emp", ev.UserID)
	require.Equal(t, "emp", ev.ChatID)
	require.Equal(t, "p2p", ev.ChatType)
	require.Equal(t, "请假", ev.Text)
	require.Nil(t, ev.Action)

	require.NotNil(t, resp.Me)
	require.Equal(t, "me", resp.Me.From)
	require.Equal(t, "请假", resp.Me.Text)
	require.Len(t, resp.Messages, 2)
	require.Equal(t, "你好 emp", resp.Messages[0].Text)
	require.Equal(t, "bot", resp.Messages[1].From)
	require.Equal(t, "请假申请 LEAVE-1", resp.Messages[1].Card.Title)
	require.Equal(t, "primary", resp.Messages[1].Card.Buttons[0].Style)
	require.Equal(t, map[string]string{"task": "7"}, resp.Messages[1].Card.Buttons[0].Value)

	h := history(t, b.srv.URL, "emp")
	require.Len(t, h, 3)
	require.Equal(t, []string{"me", "bot", "bot"}, []string{h[0].From, h[1].From, h[2].From})
	require.Empty(t, history(t, b.srv.URL, "mgr"), "another user's chat stays empty")

	// A retried send (same client id) shows the user's message once.
	r = postJSON(t, b.srv.URL+"/api/send", map[string]string{"id": "ev-1", "user": "emp", "text": "请假"}, &resp)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, h[0].ID, resp.Me.ID)
}

func TestActionReplacesCardAndPushesLive(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	ref, err := b.adapter.Send(context.Background(), bots.Recipient{Platform: "web", UserID: "mgr"},
		bots.Message{Card: approvalCard("")}, "task-7")
	require.NoError(t, err)
	otherTab := openEvents(t, b.srv.URL, "mgr")

	b.handler.HandleFunc = func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
		c := approvalCard("已同意 / Approved by 王经理")
		c.Color, c.Buttons, c.Inputs = bots.ColorGreen, nil, nil
		return bots.Reply{Toast: "已同意", Card: c, Messages: []bots.Message{{Text: "done"}}}, nil
	}
	var resp replyResponse
	r := postJSON(t, b.srv.URL+"/api/action", map[string]any{
		"id": "click-1", "user": "mgr", "message_id": ref, "action": "approve",
		"value": map[string]string{"task": "7"}, "inputs": map[string]string{"reason": "ok"},
	}, &resp)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "已同意", resp.Toast)
	require.NotNil(t, resp.Updated)
	require.Equal(t, ref, resp.Updated.ID)
	require.Equal(t, "green", resp.Updated.Card.Color)
	require.Len(t, resp.Messages, 1)

	evs := b.handler.Events()
	require.Len(t, evs, 1)
	require.Equal(t, &bots.Action{
		Name: "approve", Value: map[string]string{"task": "7"},
		Inputs: map[string]string{"reason": "ok"}, MessageRef: ref,
	}, evs[0].Action)
	require.Equal(t, "click-1", evs[0].ID)
	require.Equal(t, "mgr", evs[0].UserID)

	name, m := nextEvent(t, otherTab)
	require.Equal(t, "update", name)
	require.Equal(t, ref, m.ID)
	require.Equal(t, "已同意 / Approved by 王经理", m.Card.Note)
	require.Equal(t, 2, m.Rev)

	h := history(t, b.srv.URL, "mgr")
	require.Len(t, h, 2)
	require.Equal(t, "green", h[0].Card.Color)
	require.Empty(t, h[0].Card.Buttons, "the decided card has no buttons left")
}

func TestActionOnSomeoneElsesMessageKeepsIt(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	ref, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: "mgr"}, bots.Message{Card: approvalCard("")}, "")
	require.NoError(t, err)
	b.handler.HandleFunc = func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
		return bots.Reply{Toast: "无权操作", Card: &bots.Card{Title: "hijacked"}}, nil
	}
	var resp replyResponse
	r := postJSON(t, b.srv.URL+"/api/action", map[string]any{"user": "emp", "message_id": ref, "action": "approve"}, &resp)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "无权操作", resp.Toast)
	require.Nil(t, resp.Updated)
	require.Equal(t, "请假申请 LEAVE-1", history(t, b.srv.URL, "mgr")[0].Card.Title)
}

func TestMessengerLive(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	ctx := context.Background()
	tab1 := openEvents(t, b.srv.URL, "mgr")
	tab2 := openEvents(t, b.srv.URL, "mgr")
	otherUser := openEvents(t, b.srv.URL, "emp")

	ref, err := b.adapter.Send(ctx, bots.Recipient{Platform: "web", UserID: "mgr"}, bots.Message{Card: approvalCard("")}, "k1")
	require.NoError(t, err)
	for _, tab := range []<-chan sseEvent{tab1, tab2} {
		name, m := nextEvent(t, tab)
		require.Equal(t, "message", name)
		require.Equal(t, ref, m.ID)
		require.Equal(t, "bot", m.From)
		require.Equal(t, "请假申请 LEAVE-1", m.Card.Title)
	}

	require.NoError(t, b.adapter.Update(ctx, ref, bots.Message{Card: &bots.Card{Title: "已处理", Color: bots.ColorGrey}}))
	for _, tab := range []<-chan sseEvent{tab1, tab2} {
		name, m := nextEvent(t, tab)
		require.Equal(t, "update", name)
		require.Equal(t, ref, m.ID)
		require.Equal(t, "已处理", m.Card.Title)
	}

	// emp's stream saw nothing of mgr's chat: the next thing it gets is its own.
	_, err = b.adapter.Send(ctx, bots.Recipient{UserID: "emp"}, bots.Message{Text: "hi emp"}, "")
	require.NoError(t, err)
	_, m := nextEvent(t, otherUser)
	require.Equal(t, "hi emp", m.Text)
}

func TestSendDedupesByKey(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	ctx := context.Background()
	to := bots.Recipient{Platform: "web", UserID: "mgr"}
	ref1, err := b.adapter.Send(ctx, to, bots.Message{Text: "one"}, "outbox-1")
	require.NoError(t, err)
	ref2, err := b.adapter.Send(ctx, to, bots.Message{Text: "one again"}, "outbox-1")
	require.NoError(t, err)
	require.Equal(t, ref1, ref2)
	ref3, err := b.adapter.Send(ctx, to, bots.Message{Text: "two"}, "")
	require.NoError(t, err)
	ref4, err := b.adapter.Send(ctx, to, bots.Message{Text: "two"}, "")
	require.NoError(t, err)
	require.NotEqual(t, ref3, ref4, "no key: no dedupe")

	h := history(t, b.srv.URL, "mgr")
	require.Len(t, h, 3)
	require.Equal(t, "one", h[0].Text)
}

func TestHistoryIsBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true, History: 3})
	ctx := context.Background()
	var refs []string
	for _, text := range []string{"1", "2", "3", "4", "5"} {
		ref, err := b.adapter.Send(ctx, bots.Recipient{UserID: "u"}, bots.Message{Text: text}, "k"+text)
		require.NoError(t, err)
		refs = append(refs, ref)
	}
	h := history(t, b.srv.URL, "u")
	require.Len(t, h, 3)
	require.Equal(t, []string{"3", "4", "5"}, []string{h[0].Text, h[1].Text, h[2].Text})
	err := b.adapter.Update(ctx, refs[0], bots.Message{Text: "x"})
	require.ErrorIs(t, err, web.ErrUnknownMessage)
	require.NoError(t, b.adapter.Update(ctx, refs[4], bots.Message{Text: "5!"}))
	require.Equal(t, "5!", history(t, b.srv.URL, "u")[2].Text)
}

func TestMessengerBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	sendTests := []struct {
		name string
		ctx  context.Context
		to   bots.Recipient
		msg  bots.Message
		want string
	}{
		{"other platform", ctx, bots.Recipient{Platform: "feishu", UserID: "u"}, bots.Message{Text: "x"}, "not \"web\""},
		{"no recipient", ctx, bots.Recipient{Platform: "web"}, bots.Message{Text: "x"}, "no user id"},
		{"empty message", ctx, bots.Recipient{UserID: "u"}, bots.Message{}, "empty message"},
		{"canceled", canceled, bots.Recipient{UserID: "u"}, bots.Message{Text: "x"}, "context canceled"},
	}
	for _, tt := range sendTests {
		_, err := b.adapter.Send(tt.ctx, tt.to, tt.msg, "")
		require.ErrorContains(t, err, tt.want, tt.name)
	}
	require.Empty(t, history(t, b.srv.URL, "u"), "a refused send shows nothing")

	err := b.adapter.Update(ctx, "nope-1", bots.Message{Text: "x"})
	require.ErrorIs(t, err, web.ErrUnknownMessage)
	ref, err := b.adapter.Send(ctx, bots.Recipient{UserID: "u"}, bots.Message{Text: "keep"}, "")
	require.NoError(t, err)
	require.ErrorContains(t, b.adapter.Update(ctx, ref, bots.Message{}), "empty message")
	require.Equal(t, "keep", history(t, b.srv.URL, "u")[0].Text)
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	huge := `{"user":"emp","text":"` + strings.Repeat("a", web.MaxBody) + `"}`
	tests := []struct {
		name, path, body, contentType string
		status                        int
		want                          string
	}{
		{"malformed json", "/api/send", `{"user":`, "application/json", 400, "malformed JSON"},
		{"not an object", "/api/send", `[1,2]`, "application/json", 400, "malformed JSON"},
		{"trailing data", "/api/send", `{"user":"emp","text":"hi"} {}`, "application/json", 400, "unexpected data"},
		{"empty body", "/api/send", ``, "application/json", 400, "body is empty"},
		{"huge body", "/api/send", huge, "application/json", 413, "larger than"},
		{"form post", "/api/send", `user=emp&text=hi`, "application/x-www-form-urlencoded", 415, "send JSON"},
		{"no content type", "/api/send", `{"user":"emp","text":"hi"}`, "", 415, "send JSON"},
		{"missing user", "/api/send", `{"text":"hi"}`, "application/json", 400, "user is missing"},
		{"bad id", "/api/send", `{"id":"a b<","user":"emp","text":"hi"}`, "application/json", 400, "id must be"},
		{"wrong types", "/api/send", `{"user":5,"text":"hi"}`, "application/json", 400, "malformed JSON"},
		{"action missing", "/api/action", `{"user":"emp","message_id":"x"}`, "application/json", 400, "action must be"},
		{"action huge body", "/api/action", `{"user":"emp","action":"approve","inputs":{"reason":"` + strings.Repeat("c", web.MaxBody) + `"}}`, "application/json", 413, "larger than"},
		{"action bad json", "/api/action", `{"user":"emp","action":}`, "application/json", 400, "malformed JSON"},
		{"history without user", "/api/history", "", "", 400, "user is missing"},
		{"events without user", "/api/events", "", "", 400, "user is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, web.Config{Demo: true})
			method := http.MethodPost
			if tt.body == "" && tt.contentType == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, b.srv.URL+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
			require.Contains(t, string(body), tt.want)
			require.Empty(t, b.handler.Events(), "bad input must not reach the bot")
			require.Empty(t, history(t, b.srv.URL, "emp"), "bad input must change nothing")
		})
	}
}

func TestHandlerErrorIs503(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	b.handler.HandleFunc = func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
		return bots.Reply{}, errors.New("database is locked")
	}
	for _, tt := range []struct{ path, body string }{
		{"/api/send", `{"user":"emp","text":"/todo"}`},
		{"/api/action", `{"user":"emp","action":"approve","message_id":"x"}`},
	} {
		var out replyResponse
		r := do(t, http.MethodPost, b.srv.URL+tt.path, tt.body, &out)
		require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, tt.path)
		require.Contains(t, out.Error, "try again")
		require.NotContains(t, out.Error, "database", "internal errors stay internal")
	}
	h := history(t, b.srv.URL, "emp")
	require.Len(t, h, 1, "the user's own message stays, no bot answer")
	require.Equal(t, "me", h[0].From)
}

func TestFailedEventIs503InTheBotsWords(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	const tryAgain = "暂时无法继续对话，请稍后再试。"
	b.handler.HandleFunc = func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
		switch {
		case ev.Text == "/leave":
			return bots.Reply{Messages: []bots.Message{{Card: &bots.Card{Title: "summary"}}}}, nil
		case ev.Action != nil:
			return bots.Reply{Toast: tryAgain, Card: &bots.Card{Title: "not shown"}}, errors.New("conversation state unavailable")
		}
		return bots.Reply{Messages: []bots.Message{{Text: tryAgain}, {Card: &bots.Card{Title: "not shown"}}}}, errors.New("conversation state unavailable")
	}
	var out replyResponse
	r := do(t, http.MethodPost, b.srv.URL+"/api/send", `{"user":"emp","text":"/leave"}`, &out)
	require.Equal(t, http.StatusOK, r.StatusCode)
	card := out.Messages[0].ID

	out = replyResponse{}
	r = do(t, http.MethodPost, b.srv.URL+"/api/send", `{"user":"emp","text":"1"}`, &out)
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, "the event failed")
	require.Equal(t, tryAgain, out.Error, "in the bot's own words")
	require.Len(t, out.Messages, 1, "only the answer's text is shown in the chat")
	require.Equal(t, tryAgain, out.Messages[0].Text)

	out = replyResponse{}
	r = do(t, http.MethodPost, b.srv.URL+"/api/action", `{"user":"emp","action":"submit","message_id":"`+card+`"}`, &out)
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
	require.Equal(t, tryAgain, out.Error)
	require.Nil(t, out.Updated, "a failed click replaces no card")
	h := history(t, b.srv.URL, "emp")
	require.Len(t, h, 4, "two messages of the user's, the card, the answer; nothing else")
	require.Equal(t, "summary", h[1].Card.Title, "the card is unchanged")
}

func TestHandlerGetsDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true, Timeout: 50 * time.Millisecond})
	b.handler.HandleFunc = func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
		<-ctx.Done()
		return bots.Reply{}, ctx.Err()
	}
	var out replyResponse
	r := do(t, http.MethodPost, b.srv.URL+"/api/send", `{"user":"emp","text":"hi"}`, &out)
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
}

func TestUnknownUserPassesThrough(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	b.handler.HandleFunc = func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
		return bots.Reply{Messages: []bots.Message{{Text: "你不在通讯录中 / You are not in the directory"}}}, nil
	}
	var out replyResponse
	r := do(t, http.MethodPost, b.srv.URL+"/api/send", `{"user":"ghost","text":"/help"}`, &out)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, "你不在通讯录中 / You are not in the directory", out.Messages[0].Text)
	require.Equal(t, "ghost", b.handler.Events()[0].UserID)
}

func TestUsers(t *testing.T) {
	t.Parallel()
	users := []web.User{
		{ID: "emp", Name: "张三", Department: "研发部", Roles: []string{"employee"}, Locale: "zh-CN"},
		{ID: "mgr", Name: "Li Lei", Department: "R&D", Roles: []string{"manager"}, Locale: "en"},
	}
	b := setup(t, web.Config{Demo: true, Users: func(ctx context.Context) ([]web.User, error) { return users, nil }})
	var out struct {
		Users []web.User `json:"users"`
	}
	r := do(t, http.MethodGet, b.srv.URL+"/api/users", "", &out)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, users, out.Users)

	failing := setup(t, web.Config{Demo: true, Users: func(ctx context.Context) ([]web.User, error) {
		return nil, errors.New("boom")
	}})
	var e struct{ Error string }
	r = do(t, http.MethodGet, failing.srv.URL+"/api/users", "", &e)
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
	require.Contains(t, e.Error, "try again")

	var cfg struct {
		Demo  bool `json:"demo"`
		Clock bool `json:"clock"`
	}
	do(t, http.MethodGet, b.srv.URL+"/api/config", "", &cfg)
	require.True(t, cfg.Demo)
	require.False(t, cfg.Clock, "no Advance: no clock control")
}

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	type clockResp struct {
		Now     time.Time `json:"now"`
		Advance bool      `json:"advance"`
		Error   string    `json:"error"`
	}
	t.Run("advance", func(t *testing.T) {
		t.Parallel()
		now := start
		var moved []time.Duration
		b := setup(t, web.Config{
			Demo: true,
			Now:  func() time.Time { return now },
			Advance: func(ctx context.Context, d time.Duration) (time.Time, error) {
				moved = append(moved, d)
				now = now.Add(d)
				return now, nil
			},
		})
		stream := openEvents(t, b.srv.URL, "emp")
		var c clockResp
		do(t, http.MethodGet, b.srv.URL+"/api/clock", "", &c)
		require.True(t, c.Now.Equal(start))
		require.True(t, c.Advance)

		r := do(t, http.MethodPost, b.srv.URL+"/api/clock", `{"advance":"24h"}`, &c)
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.True(t, c.Now.Equal(start.Add(24*time.Hour)))
		ev := <-stream
		require.Equal(t, "clock", ev.Name, "open tabs learn the new time")

		for _, bad := range []string{`{"advance":"-1h"}`, `{"advance":"0s"}`, `{"advance":"soon"}`, `{"advance":"10000h"}`, `{}`} {
			r := do(t, http.MethodPost, b.srv.URL+"/api/clock", bad, &c)
			require.Equal(t, http.StatusBadRequest, r.StatusCode, bad)
			require.Contains(t, c.Error, "positive duration")
		}
		require.Equal(t, []time.Duration{24 * time.Hour}, moved, "bad input never moves the clock")
	})
	t.Run("hidden without Advance or outside demo", func(t *testing.T) {
		t.Parallel()
		advance := func(ctx context.Context, d time.Duration) (time.Time, error) {
			t.Error("clock moved")
			return time.Time{}, nil
		}
		for _, cfg := range []web.Config{
			{Demo: true},
			{Demo: false, Advance: advance, Identify: func(*http.Request) (string, bool) { return "emp", true }},
		} {
			b := setup(t, cfg)
			var c clockResp
			r := do(t, http.MethodPost, b.srv.URL+"/api/clock", `{"advance":"1h"}`, &c)
			require.Equal(t, http.StatusNotFound, r.StatusCode)
			do(t, http.MethodGet, b.srv.URL+"/api/clock", "", &c)
			require.False(t, c.Advance)
		}
	})
	t.Run("advance fails", func(t *testing.T) {
		t.Parallel()
		b := setup(t, web.Config{Demo: true, Advance: func(ctx context.Context, d time.Duration) (time.Time, error) {
			return time.Time{}, errors.New("scheduler down")
		}})
		var c clockResp
		r := do(t, http.MethodPost, b.srv.URL+"/api/clock", `{"advance":"1h"}`, &c)
		require.Equal(t, http.StatusServiceUnavailable, r.StatusCode)
		require.Contains(t, c.Error, "try again")
	})
}

func TestOutsideDemoMode(t *testing.T) {
	t.Parallel()
	users := func(ctx context.Context) ([]web.User, error) {
		return []web.User{{ID: "emp", Name: "张三"}, {ID: "mgr", Name: "李四"}}, nil
	}
	t.Run("no identity refuses everything", func(t *testing.T) {
		t.Parallel()
		b := setup(t, web.Config{Users: users})
		for _, path := range []string{"/api/users", "/api/history?user=emp", "/api/config"} {
			r := do(t, http.MethodGet, b.srv.URL+path, "", nil)
			require.Equal(t, http.StatusUnauthorized, r.StatusCode, path)
		}
		r := do(t, http.MethodPost, b.srv.URL+"/api/send", `{"user":"emp","text":"hi"}`, nil)
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Empty(t, b.handler.Events())
	})
	t.Run("identified user acts only as self", func(t *testing.T) {
		t.Parallel()
		b := setup(t, web.Config{Users: users, Identify: func(*http.Request) (string, bool) { return "emp", true }})
		r := do(t, http.MethodPost, b.srv.URL+"/api/send", `{"user":"mgr","text":"/todo"}`, nil)
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Empty(t, b.handler.Events())

		r = do(t, http.MethodPost, b.srv.URL+"/api/send", `{"text":"/todo"}`, nil)
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.Equal(t, "emp", b.handler.Events()[0].UserID)

		var out struct {
			Users []web.User `json:"users"`
		}
		do(t, http.MethodGet, b.srv.URL+"/api/users", "", &out)
		require.Len(t, out.Users, 1, "the directory is not listed outside demo mode")
		require.Equal(t, "emp", out.Users[0].ID)
	})
}

func TestCloseEndsStreams(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	stream := openEvents(t, b.srv.URL, "emp")
	require.NoError(t, b.adapter.Close())
	select {
	case _, ok := <-stream:
		require.False(t, ok, "the stream ends")
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open 5s after Close")
	}
	r := do(t, http.MethodGet, b.srv.URL+"/api/events?user=emp", "", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.StatusCode)

	// Messages are still kept for the next page load.
	_, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: "emp"}, bots.Message{Text: "after close"}, "")
	require.NoError(t, err)
	require.Equal(t, "after close", history(t, b.srv.URL, "emp")[0].Text)
}

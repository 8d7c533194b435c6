package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
)

// echoBot answers every message with its text.
type echoBot struct{}

func (echoBot) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	return bots.Reply{Messages: []bots.Message{{Text: "echo: " + ev.Text}}}, nil
}

// The playground mounted under /ui/, as cmd/flowbot does it.
func ExampleNew() {
	a := web.New(web.Config{
		Handler: echoBot{}, // *bots.Bot in production
		Demo:    true,
		Users: func(ctx context.Context) ([]web.User, error) {
			return []web.User{{ID: "u1", Name: "张三", Department: "研发部", Locale: "zh-CN"}}, nil
		},
		Now:    func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) },
		Logger: slog.New(slog.DiscardHandler),
	})
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", a.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/ui/api/send", "application/json", strings.NewReader(`{"user":"u1","text":"hello"}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.Contains(string(body), `"text":"echo: hello"`))

	// The notifier delivers cards through the same adapter.
	ref, _ := a.Send(context.Background(), bots.Recipient{Platform: "web", UserID: "u1"},
		bots.Message{Card: &bots.Card{Title: "请假申请", Color: bots.ColorBlue}}, "outbox-1")
	fmt.Println(a.Update(context.Background(), ref, bots.Message{Card: &bots.Card{Title: "已同意", Color: bots.ColorGreen}}))
	// Output:
	// 200 true
	// <nil>
}

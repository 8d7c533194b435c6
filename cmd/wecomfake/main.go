// Command wecomfake runs the in-process WeCom fake (wecomtest) on a fixed
// address, to try flowbot's WeCom adapter by hand with no WeCom account.
//
// Usage:
//
//	wecomfake [-addr 127.0.0.1:9998] [-webhook http://127.0.0.1:8080/webhook/wecom]
//
// It prints the wecom: block to put in the config of `flowbot serve
// --config` (corp id, agent id, secret, token, EncodingAESKey and
// base_url of its one app), then reads commands from stdin, one a line:
//
//	msg <userid> <text...>            deliver an encrypted, signed text message from userid
//	click <userid> <task_id> <button> click the button (by its text) on a card sent to userid
//	cards <userid>                    list the cards sent to userid: task id, title, buttons
//	verify                            run WeCom's URL check (GET echostr) against the webhook
//	help                              show the commands
//
// Messages the bot sends are printed as they arrive. Users are known to
// the bot by their WeCom userid (platforms: {wecom: LiLei} in the org
// file). Stop it with Ctrl-D or Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"

	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/internal/fakecli"
)

// The fake's one app.
const (
	corpID  = "wwfakecorp0001"
	agentID = 1000002
	secret  = "fake-corp-secret"
	token   = "fakecallbacktoken"
	aesKey  = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

const commands = `commands:
  msg <userid> <text...>
  click <userid> <task_id> <button text>
  cards <userid>
  verify
  help`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "wecomfake:", err)
		os.Exit(2)
	}
}

// run parses args, starts the fake and serves commands from in until it
// ends or ctx is done.
func run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("wecomfake", flag.ContinueOnError)
	fs.SetOutput(errOut)
	addr := fs.String("addr", "127.0.0.1:9998", "address the fake listens on")
	webhook := fs.String("webhook", "http://127.0.0.1:8080/webhook/wecom", "flowbot's WeCom callback URL")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "Usage: wecomfake [-addr host:port] [-webhook url]")
		fs.PrintDefaults()
		fmt.Fprintln(errOut, commands)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	w := fakecli.NewWriter(out)
	fake := wecomtest.NewServer(wecomtest.WithListener(ln), wecomtest.WithOnMessage(func(m wecomtest.Message) {
		w.Printf("%s\n", describe(m))
	}))
	defer fake.Close()
	app := wecomtest.App{CorpID: corpID, AgentID: agentID, Secret: secret, Token: token, EncodingAESKey: aesKey, Webhook: *webhook}
	fake.AddApp(app)
	w.Printf("WeCom fake on %s; callbacks go to %s\nconfig:\nwecom:\n  apps:\n    - corp_id: %s\n      agent_id: %d\n      secret: %s\n      token: %s\n      encoding_aes_key: %s\n      base_url: %s\n%s\n",
		fake.URL, *webhook, corpID, agentID, secret, token, aesKey, fake.URL, commands)

	return fakecli.Serve(ctx, in, func(line string) {
		if msg := command(ctx, fake, app, line); msg != "" {
			w.Printf("%s\n", msg)
		}
	})
}

// command runs one command line and returns what to print.
func command(ctx context.Context, fake *wecomtest.Server, app wecomtest.App, line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return ""
	}
	switch {
	case f[0] == "msg" && len(f) >= 3:
		text := strings.TrimSpace(strings.SplitN(strings.TrimSpace(line), f[1], 2)[1])
		r, err := fake.SendText(ctx, corpID, agentID, f[1], text)
		return answer(r, err)
	case f[0] == "click" && len(f) >= 4:
		m, ok := fake.Task(corpID, agentID, f[2])
		if !ok {
			return "no card with task_id " + f[2]
		}
		label := strings.Join(f[3:], " ")
		for _, b := range wecomtest.Buttons(m.Card) {
			if b.Text == label {
				r, err := fake.Click(ctx, corpID, agentID, f[1], f[2], b.Key)
				return answer(r, err)
			}
		}
		return fmt.Sprintf("no button %q on card %s", label, f[2])
	case f[0] == "cards" && len(f) == 2:
		var out []string
		for _, m := range fake.MessagesTo(f[1]) {
			if m.Card != nil {
				out = append(out, describe(m))
			}
		}
		if len(out) == 0 {
			return "no cards for " + f[1]
		}
		return strings.Join(out, "\n")
	case f[0] == "verify":
		r, err := wecomtest.VerifyURL(ctx, app, "wecomfake-echo")
		return answer(r, err)
	case f[0] == "help":
		return commands
	}
	return "unknown command; " + commands
}

func answer(r wecomtest.Response, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	if r.Body == "" {
		return fmt.Sprintf("-> %d", r.Status)
	}
	return fmt.Sprintf("-> %d %s", r.Status, strings.TrimSpace(r.Body))
}

// describe prints a message: text, or a card's task id, title, fields and
// buttons.
func describe(m wecomtest.Message) string {
	if m.Card == nil {
		return fmt.Sprintf("[to %s] %s", m.ToUser, m.Text)
	}
	title := ""
	if mt, ok := m.Card["main_title"].(map[string]any); ok {
		title, _ = mt["title"].(string)
	}
	var btns []string
	for _, b := range wecomtest.Buttons(m.Card) {
		btns = append(btns, "["+b.Text+"]")
	}
	sub, _ := m.Card["sub_title_text"].(string)
	return fmt.Sprintf("[to %s] card task_id=%s updates=%d %q %s %s", m.ToUser, m.TaskID, m.Updates, title, sub, strings.Join(btns, " "))
}

package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowbot/flowbot/internal/testkit"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// flowbotBin is the binary built once by TestMain for every test of the run.
var flowbotBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "flowbot-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	flowbotBin = filepath.Join(dir, "flowbot")
	build := exec.Command("go", "build", "-o", flowbotBin, "./cmd/flowbot")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build flowbot: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// moduleRoot walks up from the working directory to the go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// unavailable skips (or fails under CI=true) a test whose server is down.
func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	testkit.Unavailable(t, "%s is not reachable (%v): whole-process test NOT RUN", what, err)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// eventually polls cond every interval until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s (last state: %s)", what, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// replica is one running `flowbot serve` process.
type replica struct {
	name    string
	url     string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process exited
	client  *http.Client
}

// startReplica writes cfg (merged over a test base) to a file, starts
// `flowbot serve --config FILE` on a free port and waits for /healthz.
// The process is killed in t.Cleanup; its log is printed when t failed.
func startReplica(t testing.TB, name string, cfg map[string]any) *replica {
	t.Helper()
	dir := t.TempDir()
	base := map[string]any{
		"log":        map[string]any{"level": "info", "format": "text"},
		"http":       map[string]any{"addr": "127.0.0.1:0", "shutdown_timeout": "2s"},
		"playground": map[string]any{"demo": true, "allow_demo_with_real_platforms": true}, // the tests act as anyone, next to the Feishu fake
		// A replica killed mid-event holds its id this long; the
		// platform's redelivery is then handled by the survivor.
		"bot": map[string]any{"processing_ttl": "2s"},
	}
	for k, v := range cfg {
		base[k] = v
	}
	b, err := yaml.Marshal(base)
	require.NoError(t, err)
	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, b, 0o600))
	r := &replica{name: name, logPath: filepath.Join(dir, "flowbot.log"), done: make(chan struct{}),
		client: &http.Client{Timeout: 20 * time.Second}}
	logf, err := os.Create(r.logPath)
	require.NoError(t, err)
	r.cmd = exec.Command(flowbotBin, "serve", "--config", cfgPath)
	r.cmd.Stderr = logf
	stdout, err := r.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, r.cmd.Start())
	go func() {
		_ = r.cmd.Wait()
		logf.Close()
		close(r.done)
	}()
	t.Cleanup(func() {
		r.kill()
		if t.Failed() {
			r.dumpLog(t)
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "flowbot is running: open http://"); ok {
				addr <- strings.TrimSuffix(rest, "/ui/")
			}
		}
	}()
	select {
	case a := <-addr:
		r.url = "http://" + a
	case <-r.done:
		r.dumpLog(t)
		t.Fatalf("%s exited at start: %v", name, r.cmd.ProcessState)
	case <-time.After(60 * time.Second):
		r.dumpLog(t)
		t.Fatalf("%s did not start listening within 60s", name)
	}
	eventually(t, 30*time.Second, name+" /healthz", func() (bool, string) {
		code, body := r.get("/healthz")
		return code == http.StatusOK, fmt.Sprint(code, body)
	})
	return r
}

// kill sends SIGKILL and waits for the exit.
func (r *replica) kill() {
	if r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
	}
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
	}
}

// alive reports whether the process still runs.
func (r *replica) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

func (r *replica) dumpLog(t testing.TB) {
	b, _ := os.ReadFile(r.logPath)
	const max = 8000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	t.Logf("--- last log lines of %s ---\n%s", r.name, b)
}

func (r *replica) get(path string) (int, string) {
	resp, err := r.client.Get(r.url + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// reply is the playground's answer to /ui/api/send and /ui/api/action.
type reply struct {
	Status   int       `json:"-"`
	Error    string    `json:"error"`
	Me       *wireMsg  `json:"me"`
	Messages []wireMsg `json:"messages"`
	Toast    string    `json:"toast"`
	Updated  *wireMsg  `json:"updated"`
}

type wireMsg struct {
	ID   string    `json:"id"`
	Text string    `json:"text"`
	Card *wireCard `json:"card"`
}

type wireCard struct {
	Title    string `json:"title"`
	Markdown string `json:"markdown"`
	Buttons  []struct {
		Action string            `json:"action"`
		Value  map[string]string `json:"value"`
	} `json:"buttons"`
}

// text joins every text and card markdown of the reply and the toast.
func (rp reply) text() string {
	var parts []string
	for _, m := range append(append([]wireMsg{}, rp.Messages...), ptrMsgs(rp.Updated)...) {
		parts = append(parts, m.Text)
		if m.Card != nil {
			parts = append(parts, m.Card.Title, m.Card.Markdown)
		}
	}
	return strings.Join(append(parts, rp.Toast), "\n")
}

func ptrMsgs(m *wireMsg) []wireMsg {
	if m == nil {
		return nil
	}
	return []wireMsg{*m}
}

// button returns the value of the first button with action in the reply.
func (rp reply) button(action string) (map[string]string, bool) {
	for _, m := range append(append([]wireMsg{}, rp.Messages...), ptrMsgs(rp.Updated)...) {
		if m.Card == nil {
			continue
		}
		for _, b := range m.Card.Buttons {
			if b.Action == action {
				return b.Value, true
			}
		}
	}
	return nil, false
}

// post sends one JSON request to the playground API. A transport error
// (the process is gone) is returned as err; any HTTP answer as reply.
func (r *replica) post(ctx context.Context, path string, body any) (reply, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return reply{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url+path, bytes.NewReader(b))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", r.name, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{Status: resp.StatusCode}, fmt.Errorf("%s %s: read answer: %w", r.name, path, err)
	}
	var rp reply
	if err := json.Unmarshal(raw, &rp); err != nil {
		return reply{Status: resp.StatusCode}, fmt.Errorf("%s %s: decode answer %q: %w", r.name, path, raw, err)
	}
	rp.Status = resp.StatusCode
	return rp, nil
}

// send is POST /ui/api/send.
func (r *replica) send(ctx context.Context, user, id, text string) (reply, error) {
	return r.post(ctx, "/ui/api/send", map[string]any{"id": id, "user": user, "text": text})
}

// action is POST /ui/api/action (a card click).
func (r *replica) action(ctx context.Context, user, id, action string, value, inputs map[string]string) (reply, error) {
	return r.post(ctx, "/ui/api/action", map[string]any{"id": id, "user": user, "action": action, "value": value, "inputs": inputs})
}

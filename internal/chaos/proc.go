package chaos

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// Process runs `flowbot serve` incarnation after incarnation on one
// address, one database and one config.
type Process struct {
	Bin     string
	Dir     string // config, log and database live here
	Addr    string // host:port, fixed across restarts
	cfgPath string
	logPath string

	cmd  *exec.Cmd
	done chan struct{}
}

// NewProcess writes the config (cfg merged over a SQLite base) to dir.
func NewProcess(bin, dir string, cfg map[string]any) (*Process, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chaos: pick a port: %w", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	base := map[string]any{
		"log":        map[string]any{"level": "info", "format": "text"},
		"http":       map[string]any{"addr": addr, "shutdown_timeout": "5s"},
		"database":   map[string]any{"driver": "sqlite", "sqlite": filepath.Join(dir, "flowbot.db")},
		"playground": map[string]any{"enabled": true, "demo": true, "allow_demo_with_real_platforms": true}, // a closed test setup
	}
	for k, v := range cfg {
		base[k] = v
	}
	b, err := yaml.Marshal(base)
	if err != nil {
		return nil, fmt.Errorf("chaos: encode config: %w", err)
	}
	p := &Process{Bin: bin, Dir: dir, Addr: addr, cfgPath: filepath.Join(dir, "config.yaml"), logPath: filepath.Join(dir, "flowbot.log")}
	if err := os.WriteFile(p.cfgPath, b, 0o600); err != nil {
		return nil, fmt.Errorf("chaos: write config: %w", err)
	}
	return p, nil
}

// DBPath is the SQLite file.
func (p *Process) DBPath() string { return filepath.Join(p.Dir, "flowbot.db") }

// URL is the server's base URL.
func (p *Process) URL() string { return "http://" + p.Addr }

// Start starts an incarnation (the previous one must have exited) and
// waits until it listens.
func (p *Process) Start(ctx context.Context) error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("chaos: open log: %w", err)
	}
	cmd := exec.Command(p.Bin, "serve", "--config", p.cfgPath)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return fmt.Errorf("chaos: stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("chaos: start flowbot: %w", err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	listening := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "flowbot is running") {
				select {
				case listening <- struct{}{}:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	select {
	case <-listening:
		return nil
	case <-done:
		return fmt.Errorf("chaos: flowbot exited at start: %v (log %s)", cmd.ProcessState, p.logPath)
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(60 * time.Second):
		return errors.New("chaos: flowbot did not listen within 60s")
	}
}

// WaitReady polls /readyz until 200 and returns how long that took.
func (p *Process) WaitReady(ctx context.Context, since time.Time) (time.Duration, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := c.Get(p.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(since), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("chaos: /readyz: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Pid is the running incarnation's process id (0: none).
func (p *Process) Pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Signal sends sig to the running incarnation.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.cmd == nil || p.cmd.Process == nil {
		return errors.New("chaos: no process")
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("chaos: signal %v: %w", sig, err)
	}
	return nil
}

// Wait waits at most d for the incarnation to exit and reports whether it did.
func (p *Process) Wait(d time.Duration) bool {
	if p.done == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// Kill sends SIGKILL (after SIGCONT, in case it is stopped) and waits.
func (p *Process) Kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	p.Wait(10 * time.Second)
}

// LogTail returns the last n bytes of the log.
func (p *Process) LogTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// Servers are a private PostgreSQL and Redis for one run, on ports of
// their own and in a new directory under the system's temp directory
// (removed by Close), so the run may kill and
// restart them under load without touching the machine's shared servers.
type Servers struct {
	Dir      string
	Postgres string // URL of the server's "postgres" database (trust auth)
	Redis    string // host:port

	pgBin  string // directory of initdb, pg_ctl
	asUser string // run PostgreSQL's tools as this user ("" when not root)
	pgPort int
	redis  *exec.Cmd
	redisD chan struct{}
	rdPort int
}

// StartServers initialises and starts a private PostgreSQL (initdb,
// pg_ctl, from /usr/lib/postgresql/*/bin or PATH) and redis-server.
// PostgreSQL refuses to run as root: as root, its tools run as the user
// "postgres". Redis keeps an append-only file fsynced at every write, so
// a SIGKILL loses nothing it acknowledged, as a durable deployment's.
func StartServers(ctx context.Context) (*Servers, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	// Directly under the temp directory: PostgreSQL's user must be able
	// to reach it (a test's TempDir is private to root), and its socket
	// path must stay short.
	dir, err := os.MkdirTemp("", "flowbot-chaos-srv-")
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	s := &Servers{Dir: dir}
	s.pgBin = bin
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("chaos: running as root, PostgreSQL needs a user \"postgres\": %w", err)
		}
		s.asUser = "postgres"
	}
	for _, d := range []string{filepath.Join(dir, "pg"), filepath.Join(dir, "redis")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("chaos: %w", err)
		}
	}
	if s.asUser != "" {
		if out, err := exec.CommandContext(ctx, "chown", "-R", s.asUser, filepath.Join(dir, "pg")).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chaos: chown %s: %w: %s", dir, err, out)
		}
	}
	if s.pgPort, err = freePort(); err != nil {
		return nil, err
	}
	if s.rdPort, err = freePort(); err != nil {
		return nil, err
	}
	if out, err := s.pgTool(ctx, "initdb", "--no-sync", "-D", s.pgData(), "-A", "trust", "-U", "postgres", "-E", "UTF8").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("chaos: initdb: %w: %s", err, out)
	}
	if err := s.StartPostgres(ctx); err != nil {
		return nil, err
	}
	s.Postgres = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.pgPort)
	if err := s.StartRedis(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.Redis = "127.0.0.1:" + strconv.Itoa(s.rdPort)
	return s, nil
}

// pgBinDir finds PostgreSQL's server tools.
func pgBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.Sort(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("chaos: no PostgreSQL server tools (pg_ctl) found")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("chaos: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Servers) pgData() string { return filepath.Join(s.Dir, "pg", "data") }

func (s *Servers) pgTool(ctx context.Context, tool string, args ...string) *exec.Cmd {
	path := filepath.Join(s.pgBin, tool)
	if s.asUser != "" {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", s.asUser, "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

// StartPostgres starts the private PostgreSQL and waits until it accepts
// connections.
func (s *Servers) StartPostgres(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", s.pgPort, filepath.Join(s.Dir, "pg"))
	cmd := s.pgTool(ctx, "pg_ctl", "-D", s.pgData(), "-o", opts, "-l", filepath.Join(s.Dir, "pg", "server.log"), "-w", "-t", "60", "start")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chaos: start postgres: %w: %s", err, out)
	}
	return nil
}

// StopPostgres stops it at once ("immediate": no checkpoint, the
// server's processes quit as if killed; the next start recovers from the
// WAL).
func (s *Servers) StopPostgres(ctx context.Context) error {
	if out, err := s.pgTool(ctx, "pg_ctl", "-D", s.pgData(), "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("chaos: stop postgres: %w: %s", err, out)
	}
	return nil
}

// StartRedis starts the private redis-server and waits until it answers.
func (s *Servers) StartRedis(ctx context.Context) error {
	d := filepath.Join(s.Dir, "redis")
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(s.rdPort), "--bind", "127.0.0.1",
		"--dir", d, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--logfile", filepath.Join(d, "server.log"), "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("chaos: start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.redis, s.redisD = cmd, done
	addr := "127.0.0.1:" + strconv.Itoa(s.rdPort)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, err = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 7)
			n, _ := c.Read(buf)
			c.Close()
			if err == nil && string(buf[:n]) == "+PONG\r\n" {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("chaos: redis-server exited at start (log %s)", filepath.Join(d, "server.log"))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("chaos: redis-server did not answer within 30s")
		}
	}
}

// KillRedis kills redis-server with SIGKILL and waits for it to exit.
func (s *Servers) KillRedis() error {
	if s.redis == nil || s.redis.Process == nil {
		return errors.New("chaos: redis-server is not running")
	}
	_ = s.redis.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.redisD:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("chaos: redis-server did not exit 10s after SIGKILL")
	}
}

// Restart stops server ("postgres" or "redis") the hard way, keeps it down
// for down, starts it again, and returns how long it was unreachable.
func (s *Servers) Restart(ctx context.Context, server string, down time.Duration) (time.Duration, error) {
	t0 := time.Now()
	var stop, start func() error
	switch server {
	case "postgres":
		stop, start = func() error { return s.StopPostgres(ctx) }, func() error { return s.StartPostgres(ctx) }
	case "redis":
		stop, start = s.KillRedis, func() error { return s.StartRedis(ctx) }
	default:
		return 0, fmt.Errorf("chaos: no server %q", server)
	}
	if err := stop(); err != nil {
		return 0, err
	}
	select {
	case <-ctx.Done():
	case <-time.After(down):
	}
	if err := start(); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// Close stops both servers and removes their files.
func (s *Servers) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = s.StopPostgres(ctx)
	if s.redis != nil {
		_ = s.KillRedis()
	}
	_ = os.RemoveAll(s.Dir)
}

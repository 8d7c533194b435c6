package e2e_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", to read a replica's database

	"github.com/flowbot/flowbot/examples"
)

// sqliteCount runs a count(*) query on the SQLite database at path, read
// only, while a replica writes it.
func sqliteCount(t testing.TB, path, query string, args ...any) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	require.NoError(t, db.QueryRowContext(ctx, query, args...).Scan(&n), "query %s", query)
	return n
}

// freePort returns a port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ownRedis is a redis-server process of the test's own.
type ownRedis struct {
	addr string
	cmd  *exec.Cmd
}

func startOwnRedis(t testing.TB, port int) *ownRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server (binary)", err)
	}
	r := &ownRedis{addr: fmt.Sprintf("127.0.0.1:%d", port)}
	r.cmd = exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	require.NoError(t, r.cmd.Start())
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		<-done
	})
	c := goredis.NewClient(&goredis.Options{Addr: r.addr, DialTimeout: time.Second})
	defer c.Close()
	eventually(t, 10*time.Second, "redis-server up", func() (bool, string) {
		err := c.Ping(context.Background()).Err()
		return err == nil, fmt.Sprint(err)
	})
	return r
}

func (r *ownRedis) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
}

// submitExpense files an expense claim as user on r and returns the reply
// of the submit click.
func submitExpense(ctx context.Context, t testing.TB, r *replica, user, id string) reply {
	t.Helper()
	rp, err := r.send(ctx, user, id+"-send", "/expense amount=120 category=travel description=taxi")
	require.NoError(t, err)
	require.Equal(t, 200, rp.Status, rp.Error)
	val, ok := rp.button("submit")
	require.True(t, ok, "no submit button: %s", rp.text())
	rp, err = r.action(ctx, user, id+"-submit", "submit", val, nil)
	require.NoError(t, err)
	require.Equal(t, 200, rp.Status, rp.Error)
	return rp
}

func TestRedisDownMidConversation(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	rds := startOwnRedis(t, port)
	// The example leave flow, and an expense flow that reminds after 3s.
	flowsDir := flowDir(t, "3s")
	leave, err := examples.FS.ReadFile("flows/leave.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(flowsDir, "leave.yaml"), leave, 0o600))
	dbPath := filepath.Join(t.TempDir(), "flowbot.db")
	fb := startReplica(t, "replica", map[string]any{
		"database":  map[string]any{"driver": "sqlite", "sqlite": dbPath},
		"redis":     map[string]any{"enabled": true, "addrs": []string{rds.addr}, "prefix": "e2e:"},
		"flows":     map[string]any{"dir": flowsDir},
		"scheduler": map[string]any{"tick": "@every 1s"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	eventually(t, 10*time.Second, "ready", func() (bool, string) {
		code, body := fb.get("/readyz")
		return code == 200, body
	})
	submitExpense(ctx, t, fb, "hanmeimei", "pre") // a task for lilei
	submitExpense(ctx, t, fb, "tom", "late")      // reminded 3s later, while Redis is down
	lateFiled := time.Now()

	rp, err := fb.send(ctx, "zhangwei", "leave-1", "请假")
	require.NoError(t, err)
	require.Equal(t, 200, rp.Status)
	require.Contains(t, rp.text(), "请假类型", "the leave conversation asks the leave type first")

	rds.kill()
	rp, err = fb.send(ctx, "zhangwei", "leave-2", "1")
	require.NoError(t, err)
	require.Equal(t, 503, rp.Status, "the answer was not taken: nothing of it is kept")
	require.Contains(t, rp.Error, "暂时无法继续对话", "the error is the bot's own: the conversation cannot continue now")
	require.Contains(t, rp.text(), "稍后再试", "and it is shown in the chat")

	rp, err = fb.send(ctx, "lilei", "todo-1", "/todo")
	require.NoError(t, err)
	require.Equal(t, 200, rp.Status, rp.Error)
	val, ok := rp.button("approve")
	require.True(t, ok, "/todo without Redis lists lilei's task with its buttons: %s", rp.text())
	rp, err = fb.action(ctx, "lilei", "approve-1", "approve", val, nil)
	require.NoError(t, err)
	require.Equal(t, 200, rp.Status, rp.Error)
	require.NotContains(t, rp.text(), "系统内部错误")
	require.Equal(t, 1, sqliteCount(t, dbPath, `SELECT count(*) FROM instances i JOIN tasks t ON t.instance_id = i.id
		WHERE i.applicant = 'hanmeimei' AND i.status = 'approved' AND t.status = 'approved' AND t.decided_by = 'lilei'`),
		"the approval clicked without Redis is recorded (answer: %s)", rp.text())

	code, body := fb.get("/readyz")
	require.Equal(t, 503, code, body)
	require.Contains(t, body, "state:", "/readyz names the state store")
	require.True(t, fb.alive(), "flowbot crashed without Redis")

	// Keep Redis down until tom's reminder is due: the wall clock must
	// pass, there is no signal to wait for.
	time.Sleep(time.Until(lateFiled.Add(4 * time.Second)))
	remindedInOutage := sqliteCount(t, dbPath, `SELECT count(*) FROM tasks t JOIN instances i ON i.id = t.instance_id
		WHERE i.applicant = 'tom' AND t.reminders > 0`)
	t.Logf("tom's task reminded while Redis was down: %d (the scheduler's lock lives in Redis)", remindedInOutage)

	startOwnRedis(t, port)
	eventually(t, 20*time.Second, "ready again", func() (bool, string) {
		code, body := fb.get("/readyz")
		return code == 200, body
	})
	eventually(t, 20*time.Second, "reminders resume after Redis returns", func() (bool, string) {
		n := sqliteCount(t, dbPath, `SELECT count(*) FROM tasks t JOIN instances i ON i.id = t.instance_id
			WHERE i.applicant = 'tom' AND t.status = 'pending' AND t.reminders = 1`)
		return n == 1, fmt.Sprintf("%d of tom's tasks reminded once", n)
	})
	rp, err = fb.send(ctx, "tom", "leave-3", "请假")
	require.NoError(t, err)
	require.Equal(t, 200, rp.Status)
	require.NotContains(t, rp.text(), "暂时无法继续对话")
	require.Contains(t, rp.text(), "Leave type", "a new conversation starts (tom reads English)")
	require.True(t, fb.alive())
}

// cutProxy forwards TCP to target until cut: then it closes every
// connection and refuses new ones until reopened.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		ln.Close()
		p.setCut(true)
	})
	go p.accept()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go p.serve(c)
	}
}

func (p *cutProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *cutProxy) serve(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		c.Close()
		up.Close()
		return
	}
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]bool{}
	}
}

func TestPostgresDownRefusesEvents(t *testing.T) {
	t.Parallel()
	pgURL, pool := freshPostgres(t)
	prefix := redisPrefix(t)
	proxy := newCutProxy(t, "127.0.0.1:5432")
	viaProxy := strings.Replace(pgURL, "127.0.0.1:5432", proxy.addr(), 1)
	fb := startReplica(t, "replica", replicaConfig(viaProxy, prefix, flowDir(t, "1h"), feishuOnlyOrg(t), nil))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	rp, err := fb.send(ctx, "hanmeimei", "claim-send", "/expense amount=300 category=office description=keyboard")
	require.NoError(t, err)
	require.Equal(t, 200, rp.Status, rp.Error)
	val, ok := rp.button("submit")
	require.True(t, ok, rp.text())

	proxy.setCut(true)
	rp, err = fb.action(ctx, "hanmeimei", "claim-submit", "submit", val, nil)
	require.NoError(t, err)
	require.Equal(t, 503, rp.Status, "submit while the database is cut: %+v", rp)
	require.Zero(t, count(t, pool, `SELECT count(*) FROM instances`), "nothing is filed while the database is cut")
	code, body := fb.get("/readyz")
	require.Equal(t, 503, code, body)
	require.Contains(t, body, "database:")

	proxy.setCut(false)
	eventually(t, 20*time.Second, "ready again", func() (bool, string) {
		code, body := fb.get("/readyz")
		return code == 200, body
	})
	rp, err = fb.action(ctx, "hanmeimei", "claim-submit", "submit", val, nil)
	require.NoError(t, err)
	require.Equal(t, 200, rp.Status, rp.Error)
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM instances WHERE applicant = 'hanmeimei'`),
		"the redelivered event (same id) is handled once the database is back, got answer %q "+
			"(an empty answer: the refused first delivery's id stayed in the Redis dedupe set)", rp.text())
	require.True(t, fb.alive())
}

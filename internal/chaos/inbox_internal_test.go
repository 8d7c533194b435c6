package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/internal/testkit"
)

// TestClickAnsweredProcessingSurvivesKill9: a Feishu approval click whose
// handler outruns Feishu's 3 s deadline is answered "processing" (HTTP
// 200: Feishu never delivers it again). The process is then killed with
// SIGKILL before the handler finished. The next process must finish the
// click from the inbox row written before that answer: the request ends
// approved, once, with one outcome message.
//
// The handler is held back for real: the test locks the request's rows
// in PostgreSQL (SELECT ... FOR UPDATE) so the approval's UPDATE waits,
// while the inbox write (another table) goes through.
func TestClickAnsweredProcessingSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos: whole-process run skipped in -short")
	}
	t.Parallel()
	admin := os.Getenv("FLOWBOT_TEST_POSTGRES")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/test"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	probe, err := sql.Open("pgx", admin)
	require.NoError(t, err)
	if err := probe.PingContext(ctx); err != nil {
		probe.Close()
		testkit.Unavailable(t, "PostgreSQL at %s: %v", admin, err)
	}
	probe.Close()

	dir := t.TempDir()
	bin := filepath.Join(dir, "flowbot")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/flowbot/flowbot/cmd/flowbot").CombinedOutput()
	require.NoError(t, err, "build flowbot: %s", out)
	dsn, err := createDatabase(ctx, admin, fmt.Sprintf("chaos_inbox_%d", time.Now().UnixNano()))
	require.NoError(t, err)

	company, err := LoadCompany()
	require.NoError(t, err)
	fake, err := NewFake("", "")
	require.NoError(t, err)
	defer fake.Close()
	srvCfg, err := WriteFixtures(dir)
	require.NoError(t, err)
	srvCfg["feishu"] = fake.Config()
	srvCfg["database"] = map[string]any{"driver": "postgres", "postgres": dsn}
	rdAddr := os.Getenv("FLOWBOT_TEST_REDIS")
	if rdAddr == "" {
		rdAddr = "127.0.0.1:6379"
	}
	srvCfg["redis"] = map[string]any{"enabled": true, "addrs": []string{rdAddr}, "prefix": fmt.Sprintf("chaos_inbox_%d:", time.Now().UnixNano())}
	srvCfg["notifier"] = map[string]any{"lease": "3s", "poll": "100ms"}
	srvCfg["bot"] = map[string]any{"processing_ttl": "3s"}
	proc, err := NewProcess(bin, dir, srvCfg)
	require.NoError(t, err)
	defer proc.Kill()
	defer func() {
		if t.Failed() {
			t.Logf("flowbot log:\n%s", proc.LogTail(6000))
		}
	}()
	fake.SetWebhook(proc.URL() + "/webhook/feishu")
	require.NoError(t, proc.Start(ctx))
	_, err = proc.WaitReady(ctx, time.Now())
	require.NoError(t, err)

	db, err := openReader(dsn)
	require.NoError(t, err)
	defer db.Close()
	d := &Driver{Fake: fake, URL: proc.URL(), DB: dsn, Mix: Mix{Wait: time.Minute}, Company: company, Stats: NewStats(),
		db: db, web: nil}
	c := &Cycle{K: 1, Applicant: company.Applicants[0], Desc: "inbox-kill-9"}
	require.NoError(t, d.file(ctx, c, new(sync.Mutex)), "file and submit the claim")
	assignee := company.OpenID[c.Assignee]
	task := strconv.FormatInt(c.Task, 10)
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	card, err := fake.WaitFor(wctx, assignee, func(m Seen) bool {
		v, ok := button(m, "approve")
		return ok && valueOf(v, "task") == task
	})
	wcancel()
	require.NoError(t, err, "task card")
	val, _ := button(card, "approve")

	// Hold the request's rows: the approval waits for them.
	lock, err := db.db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = lock.Rollback() }()
	_, err = lock.ExecContext(ctx, `SELECT id FROM instances WHERE id = $1 FOR UPDATE`, c.Instance)
	require.NoError(t, err)
	_, err = lock.ExecContext(ctx, `SELECT id FROM tasks WHERE instance_id = $1 FOR UPDATE`, c.Instance)
	require.NoError(t, err)

	r, err := fake.TryClick(feishutest.Click{App: AppID, OpenID: assignee, MessageID: card.ID, Value: val})
	require.NoError(t, err)
	require.Equal(t, 200, r.Status)
	require.NotNil(t, r.Toast, "the late click is answered with a toast")
	require.Equal(t, processingToast, r.Toast.I18n["en_us"], "the click outran the deadline and was acknowledged as processing")
	inbox, err := db.count(ctx, `SELECT count(*) FROM inbox`)
	require.NoError(t, err)
	require.Equal(t, 1, inbox, "the click is in the inbox before its answer")

	require.NoError(t, proc.Signal(syscall.SIGKILL))
	require.True(t, proc.Wait(30*time.Second), "flowbot exits on SIGKILL")
	require.NoError(t, lock.Rollback())
	status, err := instanceStatus(ctx, db, c.Instance)
	require.NoError(t, err)
	require.Equal(t, "pending", status, "the killed handler did not finish")

	require.NoError(t, proc.Start(ctx))
	_, err = proc.WaitReady(ctx, time.Now())
	require.NoError(t, err)
	deadline := time.Now().Add(60 * time.Second)
	for status != "approved" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		status, err = instanceStatus(ctx, db, c.Instance)
		require.NoError(t, err)
	}
	require.Equal(t, "approved", status, "the acknowledged click was finished by the next process")
	for q, want := range map[string]int{
		`SELECT count(*) FROM tasks WHERE instance_id = $1 AND status = 'approved'`: 1,
		`SELECT count(*) FROM outbox WHERE instance_id = $1 AND kind = 'approved'`:  1,
	} {
		n, err := db.count(ctx, q, c.Instance)
		require.NoError(t, err)
		require.Equal(t, want, n, q)
	}
	require.Eventually(t, func() bool {
		n, err := db.count(ctx, `SELECT count(*) FROM inbox`)
		return err == nil && n == 0
	}, 30*time.Second, 100*time.Millisecond, "the replayed click leaves the inbox")
}

func instanceStatus(ctx context.Context, db *reader, id int64) (string, error) {
	var s string
	err := db.db.QueryRowContext(ctx, `SELECT status FROM instances WHERE id = $1`, id).Scan(&s)
	return s, err
}

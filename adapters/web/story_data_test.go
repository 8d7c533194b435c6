package web_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/examples"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/orgfile"
	"github.com/flowbot/flowbot/flows/workcal"
	"github.com/flowbot/flowbot/store/sqlite"
)

// The people of the stories, from examples/org.yaml: 韩梅梅 reports to 李雷;
// 陈静 (HR) approves leave of more than 3 days.
const (
	employee = "hanmeimei"
	manager  = "lilei"
	hr       = "chenjing"
)

// demoCalendar is examples/calendar.yaml.
func demoCalendar(t *testing.T) *workcal.Calendar {
	t.Helper()
	src, err := fs.ReadFile(examples.FS, "calendar.yaml")
	require.NoError(t, err)
	cal, err := workcal.Parse(src)
	require.NoError(t, err)
	return cal
}

// loadDemoData loads examples/org.yaml and examples/flows/*.yaml, as
// `flowbot serve` does with no config.
func loadDemoData(t *testing.T, ctx context.Context, db *sqlite.DB, eng *flows.Engine) {
	t.Helper()
	src, err := fs.ReadFile(examples.FS, "org.yaml")
	require.NoError(t, err)
	users, depts, err := orgfile.Parse("org.yaml", src)
	require.NoError(t, err)
	require.NoError(t, db.ReplaceDirectory(ctx, users, depts))
	files, err := fs.Glob(examples.FS, "flows/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		src, err := fs.ReadFile(examples.FS, f)
		require.NoError(t, err)
		_, _, err = eng.PublishFlow(ctx, f, src)
		require.NoError(t, err, "publish %s", f)
	}
}

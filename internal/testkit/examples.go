package testkit

import (
	"context"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/examples"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/orgfile"
	"github.com/flowbot/flowbot/flows/workcal"
)

// DirectoryStore is the part of a store LoadExampleOrg writes to.
type DirectoryStore interface {
	ReplaceDirectory(ctx context.Context, users []*flows.User, depts []*flows.Department) error
}

// ExampleOrg parses the example company (examples/org.yaml, embedded).
func ExampleOrg(tb testing.TB) ([]*flows.User, []*flows.Department) {
	tb.Helper()
	src, err := fs.ReadFile(examples.FS, "org.yaml")
	require.NoError(tb, err)
	users, depts, err := orgfile.Parse("org.yaml", src)
	require.NoError(tb, err, "parse the example org.yaml")
	return users, depts
}

// LoadExampleOrg replaces the directory of store with the example company.
func LoadExampleOrg(tb testing.TB, ctx context.Context, store DirectoryStore) {
	tb.Helper()
	users, depts := ExampleOrg(tb)
	require.NoError(tb, store.ReplaceDirectory(ctx, users, depts), "load the example org")
}

// ExampleFlowFiles returns the names (flows/x.yaml) of the example flows.
func ExampleFlowFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := fs.Glob(examples.FS, "flows/*.yaml")
	require.NoError(tb, err)
	require.NotEmpty(tb, files, "no example flows embedded")
	return files
}

// ExampleFlow returns the source of an example flow file (flows/x.yaml).
func ExampleFlow(tb testing.TB, file string) []byte {
	tb.Helper()
	src, err := fs.ReadFile(examples.FS, file)
	require.NoError(tb, err, "read example %s", file)
	return src
}

// PublishExampleFlows publishes every example flow on engine and returns
// their file names.
func PublishExampleFlows(tb testing.TB, ctx context.Context, engine *flows.Engine) []string {
	tb.Helper()
	files := ExampleFlowFiles(tb)
	for _, f := range files {
		_, _, err := engine.PublishFlow(ctx, f, ExampleFlow(tb, f))
		require.NoError(tb, err, "publish %s", f)
	}
	return files
}

// ExampleCalendar parses the example working calendar
// (examples/calendar.yaml, embedded).
func ExampleCalendar(tb testing.TB) *workcal.Calendar {
	tb.Helper()
	src, err := fs.ReadFile(examples.FS, "calendar.yaml")
	require.NoError(tb, err)
	cal, err := workcal.Parse(src)
	require.NoError(tb, err, "parse the example calendar.yaml")
	return cal
}

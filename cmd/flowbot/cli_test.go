package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/orgfile"
	"github.com/flowbot/flowbot/internal/testkit"
)

// runCLI runs one command line in process, as main does.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// want is a mistake a fixture announces with a "# want: text" comment on
// its line ("# want: a | want: b" for two on one line).
type want struct {
	file string
	line int
	text string
}

var wantRE = regexp.MustCompile(`#\s*want:\s*(.*)$`)

// fixtureWants reads the expected mistakes from the comments of files.
func fixtureWants(t *testing.T, files ...string) []want {
	t.Helper()
	var out []want
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(b))
		for n := 1; sc.Scan(); n++ {
			m := wantRE.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			for _, w := range strings.Split(m[1], "| want:") {
				out = append(out, want{file: f, line: n, text: strings.TrimSpace(w)})
			}
		}
	}
	require.NotEmpty(t, out, "fixtures announce their mistakes")
	return out
}

// requireMistakes checks that output has exactly one line per wanted
// mistake, each "prefix:line:" followed by a message containing its text.
func requireMistakes(t *testing.T, output string, wants []want, prefix func(w want) string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(output), "\n")
	require.Len(t, lines, len(wants), "one line per mistake, got:\n%s", output)
	for _, w := range wants {
		head := fmt.Sprintf("%s:%d:", prefix(w), w.line)
		found := slices.ContainsFunc(lines, func(l string) bool {
			return strings.HasPrefix(l, head) && strings.Contains(l, w.text)
		})
		require.True(t, found, "no line %q...%q in:\n%s", head, w.text, output)
	}
}

func TestFlowsValidateExamples(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "examples", "flows")
	out, _, err := runCLI(t, "flows", "validate", dir)
	require.NoError(t, err)

	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, len(files), "one line per flow:\n%s", out)
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		d, err := flowdef.Parse(f, src)
		require.NoError(t, err)
		require.Regexp(t, `(?m)^ok\s+`+regexp.QuoteMeta(d.ID)+`\s+.*`+regexp.QuoteMeta(d.Name.EN), out, "flow %s of %s is listed", d.ID, f)
		require.Contains(t, out, fmt.Sprintf("%d steps", len(d.Steps)))
	}
}

func TestFlowsValidateListsEveryMistake(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "badflows")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	wants := fixtureWants(t, files...)

	out, _, err := runCLI(t, "flows", "validate", dir)
	require.Error(t, err)
	require.False(t, errors.Is(err, errUsage), "a bad flow is not a usage mistake")
	require.Contains(t, err.Error(), fmt.Sprintf("%d mistake(s)", len(wants)))
	requireMistakes(t, out, wants, func(w want) string { return w.file })
}

func TestFlowsValidateBadFolder(t *testing.T) {
	t.Parallel()
	_, _, err := runCLI(t, "flows", "validate", filepath.Join(t.TempDir(), "missing"))
	require.ErrorContains(t, err, "read flow directory")
}

// Validating a folder with no flow files (a typo in the path's last part,
// or the wrong folder) must not say everything is fine.
func TestFlowsValidateEmptyFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "notes.txt", "id: x\n")
	_, _, err := runCLI(t, "flows", "validate", dir)
	require.ErrorContains(t, err, "no flow files")
}

func TestFlowsGraph(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "flows", "leave.yaml"))
	require.NoError(t, err)
	leave, err := flowdef.Parse("leave.yaml", src)
	require.NoError(t, err)

	for _, args := range [][]string{
		{"flows", "graph", "leave"},
		{"flows", "graph", "leave", "--dir", filepath.Join("..", "..", "examples", "flows")},
		{"flows", "graph", "--dir", filepath.Join("..", "..", "examples", "flows"), "leave"},
	} {
		out, _, err := runCLI(t, args...)
		require.NoError(t, err, "%v", args)
		require.True(t, strings.HasPrefix(out, "flowchart "), "a Mermaid flowchart: %q", out)
		for _, s := range leave.Steps {
			require.Contains(t, out, s.Name.ZH, "step %s is drawn", s.ID)
			require.Contains(t, out, s.Name.EN, "step %s is drawn", s.ID)
		}
		require.Contains(t, out, "period.days > 3", "the condition labels the branch")
	}
}

func TestFlowsGraphMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"unknown flow", []string{"flows", "graph", "holiday"}, false, `no flow "holiday"`},
		{"no flow id", []string{"flows", "graph"}, true, ""},
		{"broken folder", []string{"flows", "graph", "twin", "--dir", filepath.Join("testdata", "badflows")}, false, "already defined"},
		{"unknown flag", []string{"flows", "graph", "leave", "--colour"}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := runCLI(t, tc.args...)
			require.Error(t, err)
			require.Equal(t, tc.usage, errors.Is(err, errUsage), "usage error: %v", err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, out, "flowchart", "nothing is drawn")
		})
	}
}

// sqliteConfig writes a config file using a fresh SQLite file in dir.
func sqliteConfig(t *testing.T, dir string) (cfgPath, dbPath string) {
	t.Helper()
	dbPath = filepath.Join(dir, "flowbot.db")
	cfgPath = writeFile(t, dir, "config.yaml", fmt.Sprintf("database: {driver: sqlite, sqlite: %q}\n", dbPath))
	return cfgPath, dbPath
}

// directoryOf opens the database and returns its user and department ids.
func directoryOf(t *testing.T, dbPath string) (users, depts []string) {
	t.Helper()
	db := testkit.OpenSQLiteFile(t, dbPath)
	defer db.Close()
	us, err := db.Users(context.Background())
	require.NoError(t, err)
	ds, err := db.Departments(context.Background())
	require.NoError(t, err)
	for _, u := range us {
		users = append(users, u.ID)
	}
	for _, d := range ds {
		depts = append(depts, d.ID)
	}
	slices.Sort(users)
	slices.Sort(depts)
	return users, depts
}

func exampleOrg(t *testing.T) (path string, users, depts []string) {
	t.Helper()
	path = filepath.Join("..", "..", "examples", "org.yaml")
	us, ds := testkit.ExampleOrg(t)
	for _, u := range us {
		users = append(users, u.ID)
	}
	for _, d := range ds {
		depts = append(depts, d.ID)
	}
	slices.Sort(users)
	slices.Sort(depts)
	return path, users, depts
}

func TestDirectoryImport(t *testing.T) {
	t.Parallel()
	cfg, db := sqliteConfig(t, t.TempDir())
	org, users, depts := exampleOrg(t)

	out, _, err := runCLI(t, "directory", "import", org, "--config", cfg)
	require.NoError(t, err)
	require.Contains(t, out, fmt.Sprintf("imported %d users and %d departments", len(users), len(depts)))
	gotUsers, gotDepts := directoryOf(t, db)
	require.Equal(t, users, gotUsers)
	require.Equal(t, depts, gotDepts)

	// Importing again replaces, it does not duplicate.
	_, _, err = runCLI(t, "directory", "import", "--config", cfg, org)
	require.NoError(t, err)
	gotUsers, _ = directoryOf(t, db)
	require.Equal(t, users, gotUsers)
}

func TestDirectoryImportRefusesBadFileAndChangesNothing(t *testing.T) {
	t.Parallel()
	cfg, db := sqliteConfig(t, t.TempDir())
	org, users, depts := exampleOrg(t)
	_, _, err := runCLI(t, "directory", "import", org, "--config", cfg)
	require.NoError(t, err)

	bad := filepath.Join("testdata", "badorg.yaml")
	wants := fixtureWants(t, bad)
	out, _, err := runCLI(t, "directory", "import", bad, "--config", cfg)
	require.Error(t, err)
	require.False(t, errors.Is(err, errUsage))
	require.NotContains(t, out, "imported")
	// main prints the error: one line per bad row.
	requireMistakes(t, err.Error(), wants, func(want) string { return "badorg.yaml" })

	gotUsers, gotDepts := directoryOf(t, db)
	require.Equal(t, users, gotUsers, "a refused file changes nothing")
	require.Equal(t, depts, gotDepts)
}

func TestDirectoryImportMistakes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, _ := sqliteConfig(t, dir)
	org, _, _ := exampleOrg(t)
	badCfg := writeFile(t, dir, "bad.yaml", "database: {driver: oracle}\n")
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"no file", []string{"directory", "import"}, true, ""},
		{"missing file", []string{"directory", "import", filepath.Join(dir, "none.yaml"), "--config", cfg}, false, "none.yaml"},
		{"unknown format", []string{"directory", "import", writeFile(t, dir, "org.json", "{}"), "--config", cfg}, false, "unknown format"},
		{"bad config", []string{"directory", "import", org, "--config", badCfg}, false, "database.driver"},
		{"missing config", []string{"directory", "import", org, "--config", filepath.Join(dir, "none-config.yaml")}, false, "open config"},
		{"unknown flag", []string{"directory", "import", org, "--dry-run"}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := runCLI(t, tc.args...)
			require.Error(t, err)
			require.Equal(t, tc.usage, errors.Is(err, errUsage), "usage error: %v", err)
			require.Contains(t, err.Error(), tc.want)
			require.Empty(t, out)
		})
	}
}

// A users CSV holds no departments and a departments CSV no users:
// importing one must keep the other half of the directory.
func TestDirectoryImportCSVKeepsTheOtherHalf(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, db := sqliteConfig(t, dir)
	org, _, depts := exampleOrg(t)
	_, _, err := runCLI(t, "directory", "import", org, "--config", cfg)
	require.NoError(t, err)

	header := strings.Join(orgfile.UserColumns, ",") + "\n"
	heads := "wangzong,王总,ceo@example.com,exec,,admin,zh-CN,Asia/Shanghai,,,,\n" +
		"zhaomin,赵敏,zm@example.com,sales,wangzong,employee,zh-CN,Asia/Shanghai,,,,\n" +
		"chenjing,陈静,cj@example.com,hradm,wangzong,hr,zh-CN,Asia/Shanghai,,,,\n"
	// Without the department heads the kept departments would point at
	// nobody: refused, nothing changes.
	before, beforeDepts := directoryOf(t, db)
	_, _, err = runCLI(t, "directory", "import", writeFile(t, dir, "users.csv", header+"lilei,李雷,lilei@example.com,eng,,employee,zh-CN,Asia/Shanghai,,,,\n"), "--config", cfg)
	require.ErrorContains(t, err, `head "wangzong" is not a known user`)
	gotUsers, gotDepts := directoryOf(t, db)
	require.Equal(t, before, gotUsers)
	require.Equal(t, beforeDepts, gotDepts)

	csv := header + heads +
		"newbie,新人,newbie@example.com,eng,lilei,employee,zh-CN,Asia/Shanghai,,,,\n" +
		"lilei,李雷,lilei@example.com,eng,wangzong,employee,zh-CN,Asia/Shanghai,,,,\n"
	_, _, err = runCLI(t, "directory", "import", writeFile(t, dir, "users.csv", csv), "--config", cfg)
	require.NoError(t, err)
	gotUsers, gotDepts = directoryOf(t, db)
	require.Equal(t, []string{"chenjing", "lilei", "newbie", "wangzong", "zhaomin"}, gotUsers)
	require.Equal(t, depts, gotDepts, "the departments are kept")

	// A departments CSV that drops departments people still belong to is
	// refused; one that keeps them all replaces the departments only.
	dcsv := strings.Join(orgfile.DepartmentColumns, ",") + "\neng,研发部,Engineering,lilei,\n"
	_, _, err = runCLI(t, "directory", "import", writeFile(t, dir, "departments.csv", dcsv), "--config", cfg)
	require.ErrorContains(t, err, `unknown department "hradm"`)
	dcsv = strings.Join(orgfile.DepartmentColumns, ",") + "\n" +
		"exec,总经办,Executive office,wangzong,\n" +
		"eng,研发中心,R&D,lilei,exec\n" +
		"sales,销售部,Sales,zhaomin,exec\n" +
		"hradm,人事行政部,HR & Admin,chenjing,exec\n"
	_, _, err = runCLI(t, "directory", "import", writeFile(t, dir, "departments.csv", dcsv), "--config", cfg)
	require.NoError(t, err)
	gotUsers, _ = directoryOf(t, db)
	require.Equal(t, []string{"chenjing", "lilei", "newbie", "wangzong", "zhaomin"}, gotUsers, "the users are kept")
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	cfg, db := sqliteConfig(t, t.TempDir())
	for i := range 2 {
		out, _, err := runCLI(t, "migrate", "--config", cfg)
		require.NoError(t, err, "run %d", i+1)
		require.Contains(t, out, "migrated sqlite database")
	}
	// The database works after both runs.
	st := testkit.OpenSQLiteFile(t, db)
	defer st.Close()
	n, err := st.OutboxDepth(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
	_, err = st.Flow(context.Background(), "leave", 0)
	require.ErrorIs(t, err, flows.ErrNotFound, "migrate creates tables, it publishes nothing")
}

func TestMigrateMistakes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, _, err := runCLI(t, "migrate", "--config", writeFile(t, dir, "c.yaml", "database: {driver: oracle}\n"))
	require.ErrorContains(t, err, "database.driver")
	_, _, err = runCLI(t, "migrate", "--config", writeFile(t, dir, "d.yaml", fmt.Sprintf("database: {sqlite: %q}\n", filepath.Join(dir, "no", "such", "x.db"))))
	require.ErrorContains(t, err, "open sqlite")
	_, _, err = runCLI(t, "migrate", "--verbose")
	require.ErrorIs(t, err, errUsage)
}

func TestUsageMistakes(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		nil,
		{"bogus"},
		{"flows"},
		{"flows", "frobnicate"},
		{"flows", "validate"},
		{"flows", "validate", "a", "b"},
		{"directory"},
		{"directory", "frobnicate"},
		{"directory", "forget"},
		{"serve", "--nope"},
		{"serve", "--config"},
	} {
		out, _, err := runCLI(t, args...)
		require.ErrorIs(t, err, errUsage, "%q", args)
		require.Empty(t, out, "%q", args)
	}
}

func TestHelpNamesEveryCommand(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"help", "-h", "--help"} {
		out, _, err := runCLI(t, h)
		require.NoError(t, err)
		for _, cmd := range []string{"serve", "flows validate", "flows graph", "directory import", "directory sync", "directory export", "directory forget", "migrate"} {
			require.Contains(t, out, "flowbot "+cmd)
		}
	}
}

// serve with a bad config stops before listening and says why.
func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, _, err := runCLI(t, "serve", "--config", writeFile(t, dir, "c.yaml", "log: {level: loud}\n"))
	require.ErrorContains(t, err, "log.level")
	_, _, err = runCLI(t, "serve", "--config", filepath.Join(dir, "none.yaml"))
	require.ErrorContains(t, err, "open config")
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

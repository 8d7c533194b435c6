package archtest_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const mod = "github.com/flowbot/flowbot/"

// allowed reports whether package pkg (path under the module) may import
// dep (path under the module), and why not.
func allowed(pkg, dep string) (bool, string) {
	top := func(p string) string { a, _, _ := strings.Cut(p, "/"); return a }
	within := func(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }
	if within(dep, "internal/testkit") {
		if within(pkg, "store/internal/storetest") {
			return true, "" // the stores' shared tests, imported by _test.go files only, use the example company as they do
		}
		return false, "internal/testkit holds test helpers: only _test.go files import it"
	}
	switch top(pkg) {
	case "flows":
		return within(dep, "flows"), "flows imports nothing of this repo but itself"
	case "bots":
		if within(pkg, "bots/schedule") && within(dep, "charts") {
			return true, "" // the owners' monthly report draws its chart
		}
		return within(dep, "flows") || within(dep, "bots"), "bots imports only flows"
	case "charts":
		return within(dep, "flows") || within(dep, "charts"), "charts draws the flows' figures and imports nothing else"
	case "blobs":
		return within(dep, "blobs") || within(dep, "signedlink"), "blobs imports nothing of this repo but itself and signedlink"
	case "adapters":
		parts := strings.Split(pkg, "/")
		own := "adapters/" + parts[1]
		if own == "adapters/adaptertest" && (within(dep, "blobs") || within(dep, "charts")) {
			return true, "" // the adapters' test kit signs attachment links and draws report charts as serve does
		}
		return within(dep, "bots") || within(dep, own) || within(dep, "adapters/internal"), "an adapter imports bots, its own packages and the adapters' shared internals, never flows, store or another adapter"
	case "store":
		parts := strings.Split(pkg, "/")
		own := "store/" + parts[1]
		other := top(dep) == "cmd" || top(dep) == "adapters" || top(dep) == "internal" || (top(dep) == "store" && !within(dep, own) && !within(dep, "store/internal"))
		return !other, "a store imports the packages whose records it keeps (flows, bots, api, webhooks...) and the stores' shared internals, never cmd, an adapter, internal or another store"
	}
	return true, ""
}

func TestImportDirection(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		for _, dep := range fields[1:] {
			if !strings.HasPrefix(dep, mod) {
				continue
			}
			dep = strings.TrimPrefix(dep, mod)
			checked++
			if ok, why := allowed(pkg, dep); !ok {
				t.Errorf("%s imports %s: %s", pkg, dep, why)
			}
		}
	}
	require.Positive(t, checked, "no imports inside the module were checked")
}

func TestRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pkg, dep string
		ok       bool
	}{
		{"flows", "store/sqlite", false},
		{"flows", "flows/flowdef", true},
		{"bots", "flows", true},
		{"bots/notify", "adapters/web", false},
		{"adapters/feishu", "flows", false},
		{"adapters/feishu", "adapters/web", false},
		{"adapters/feishu", "adapters/feishu/feishutest", true},
		{"adapters/feishu", "bots", true},
		{"adapters/adaptertest", "blobs", true},
		{"adapters/adaptertest", "charts", true},
		{"adapters/feishu", "charts", false},
		{"bots/schedule", "charts", true},
		{"bots", "charts", false},
		{"charts", "bots", false},
		{"adapters/feishu", "blobs", false},
		{"store/sqlite", "bots", true},
		{"store/sqlite", "store/redis", false},
		{"store/postgres", "store/internal/migrate", true},
		{"store/sqlite", "webhooks", true},
		{"store/sqlite", "adapters/web", false},
		{"store/sqlite", "cmd/flowbot", false},
		{"cmd/flowbot", "store/sqlite", true},
		{"cmd/flowbot", "internal/testkit", false},
		{"flows", "internal/testkit", false},
		{"internal/e2e", "internal/testkit", false},
	}
	for _, tt := range tests {
		got, _ := allowed(tt.pkg, tt.dep)
		require.Equal(t, tt.ok, got, "%s -> %s", tt.pkg, tt.dep)
	}
}

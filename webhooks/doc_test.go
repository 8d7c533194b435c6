package webhooks_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDocReceiverIsTested: docs/WEBHOOKS.md shows verifyFlowbot exactly as
// the tests run it against real deliveries.
func TestDocReceiverIsTested(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("receiver_test.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "receiver_test.go", src, parser.ParseComments)
	require.NoError(t, err)
	var fn string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "verifyFlowbot" {
			fn = string(src[fset.Position(fd.Doc.Pos()).Offset:fset.Position(fd.End()).Offset])
		}
	}
	require.NotEmpty(t, fn)
	doc, err := os.ReadFile("../docs/WEBHOOKS.md")
	require.NoError(t, err)
	require.True(t, strings.Contains(string(doc), fn), "docs/WEBHOOKS.md must contain verifyFlowbot of webhooks/receiver_test.go verbatim:\n%s", fn)
}

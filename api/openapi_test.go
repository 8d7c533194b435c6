package api_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/api"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Responses map[string]json.RawMessage `json:"responses"`
		Schemas   struct {
			Error struct {
				Properties struct {
					Error struct {
						Properties struct {
							Code struct {
								Enum []string `json:"enum"`
							} `json:"code"`
						} `json:"properties"`
					} `json:"error"`
				} `json:"properties"`
			} `json:"Error"`
		} `json:"schemas"`
	} `json:"components"`
}

// Every route the server serves is in the document and nothing else is;
// every error code the package can write is declared.
func TestOpenAPIComplete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "GET", "/api/v1/openapi.json", "", nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, api.OpenAPIDoc, r.Body)
	var doc openAPIDoc
	require.NoError(t, json.Unmarshal(r.Body, &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)

	var documented []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	served := b.srv.Routes()
	slices.Sort(documented)
	slices.Sort(served)
	require.Equal(t, served, documented, "routes served vs documented")

	// The codes: every constant of type Code declared in this package.
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	require.NoError(t, err)
	var codes []string
	for _, f := range pkgs["api"].Files {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Code" {
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok {
						codes = append(codes, strings.Trim(lit.Value, `"`))
					}
				}
			}
			return true
		})
	}
	require.GreaterOrEqual(t, len(codes), 8)
	enum := doc.Components.Schemas.Error.Properties.Error.Properties.Code.Enum
	for _, c := range codes {
		require.Contains(t, enum, c, "error code %s not in the Error schema", c)
		require.Contains(t, doc.Components.Responses, c, "error code %s has no response", c)
	}
	require.Len(t, enum, len(codes), "the document declares codes the code never writes")
}

func TestReferencePage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "GET", "/api/v1/docs", "", nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, "text/html; charset=utf-8", r.Header.Get("Content-Type"))
	require.Contains(t, string(r.Body), `fetch("openapi.json")`)
	require.NotContains(t, string(r.Body), "https://", "the page loads nothing from a CDN")
}
